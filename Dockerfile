# syntax=docker/dockerfile:1
# pyproj-rpc: one image for `pyproj-rpc api`, `pyproj-rpc relay` and `pyproj-rpc db upgrade`.
#
#   docker build -t pyproj-rpc:0.1.0 .
#   docker run --rm -e DATABASE_URL=... pyproj-rpc:0.1.0 db upgrade
#   docker run --rm -p 8000:8000 -e DATABASE_URL=... -e PYPROJ_JWT_SECRET=... pyproj-rpc:0.1.0
#
# Stage 1 builds the wheel (it carries db/ and alembic/ inside) and installs it, with the
# exact versions of deploy/docker/constraints.txt, into a virtual environment. Stage 2 is a
# slim Python with that environment and nothing else: no compiler, no pip, no source tree.
# Both stages use the same base, so the environment's interpreter is the same file.

FROM python:3.11-slim-bookworm AS build

# The build backend, pinned as in pyproject.toml's dev extra (no build isolation: no
# unpinned download of hatchling at build time).
RUN python -m pip install --no-cache-dir hatchling==1.27.0

WORKDIR /src
COPY pyproject.toml README.md ./
COPY pyproj_rpc ./pyproj_rpc
COPY db ./db
COPY alembic ./alembic
COPY deploy/docker/constraints.txt ./constraints.txt

RUN python -m pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /dist . \
    && python -m venv --without-pip /opt/pyproj-rpc \
    && python -m pip --python /opt/pyproj-rpc/bin/python install --no-cache-dir \
        --constraint constraints.txt /dist/pyproj_rpc-*.whl


FROM python:3.11-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="pyproj-rpc" \
      org.opencontainers.image.description="Peer mentor pause management: REST adapter, notification relay, migrations" \
      org.opencontainers.image.licenses="MIT"

# A user of our own, without a home or a shell; the numeric id lets Kubernetes check
# runAsNonRoot.
RUN groupadd --system --gid 10001 pyproj \
    && useradd --system --uid 10001 --gid pyproj --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin pyproj

COPY --from=build /opt/pyproj-rpc /opt/pyproj-rpc
COPY --chmod=0755 deploy/docker/healthcheck.py /usr/local/bin/pyproj-rpc-healthcheck

# No bytecode written at run time: the root filesystem may be read-only.
ENV PATH=/opt/pyproj-rpc/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    PYPROJ_HEALTHCHECK_URL=http://127.0.0.1:8000/healthz

USER 10001:10001
WORKDIR /tmp
EXPOSE 8000 9464

# The REST adapter's /healthz by default; the relay sets PYPROJ_HEALTHCHECK_URL to its
# --metrics-port's /healthz. One-shot commands (db upgrade) turn the check off.
HEALTHCHECK --interval=10s --timeout=4s --start-period=20s --retries=3 \
    CMD ["pyproj-rpc-healthcheck"]

ENTRYPOINT ["pyproj-rpc"]
CMD ["api", "--host", "0.0.0.0", "--port", "8000"]
