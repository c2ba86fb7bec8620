# The khulasa server image. Not built in this repository's CI (its machines run no container
# runtime); the install steps it runs are deploy/install.sh, which CI does run.
#
#   docker build -t khulasa:0.1.0 .                                  the gRPC server
#   docker build --build-arg EXTRAS=ray -t khulasa-ray:0.1.0 .       + Ray, for khulasa-bulk on KubeRay
#
# Settings come from KHULASA_* variables (khulasa-server --help lists them all). The bundle is
# not in the image: mount one at $KHULASA_HOME/bundles/NAME, or build it there first with
# `khulasa-models build NAME` (deploy/kubernetes/deployment.yaml does so in an init container).
FROM python:3.11-slim

ARG EXTRAS=server
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1

COPY . /src
RUN /src/deploy/install.sh /opt/khulasa "$EXTRAS" && rm -rf /src \
    && useradd --uid 10001 --user-group --home-dir /var/lib/khulasa --create-home --shell /usr/sbin/nologin khulasa

ENV PATH=/opt/khulasa/bin:$PATH \
    KHULASA_HOME=/var/lib/khulasa \
    KHULASA_LISTEN=0.0.0.0:50051
USER 10001:10001
WORKDIR /var/lib/khulasa
EXPOSE 50051 9090

ENTRYPOINT ["khulasa-server"]
CMD ["--listen", "0.0.0.0:50051"]
