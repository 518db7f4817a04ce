# proctorhub: one image for the web processes, the worker and `proctorhub initdb`.
#   docker build -t proctorhub .
#   docker run --env-file proctorhub.env -p 6543:6543 proctorhub
# Configuration comes from the environment (production.ini reads PROCTORHUB_*; see README, Deploying).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONWARNINGS="ignore:pkg_resources is deprecated:UserWarning"

WORKDIR /srv/proctorhub
COPY setup.cfg pyproject.toml README.md ./
COPY proctorhub ./proctorhub
COPY backends ./backends
RUN pip install . ./backends/softwaresecure ./backends/rest ./backends/sandbox \
    && useradd --system --home-dir /srv/proctorhub proctorhub
COPY production.ini ./

USER proctorhub
EXPOSE 6543
# pserve runs waitress through proctorhub's runner (production.ini, [server:main]): SIGTERM
# (docker stop) lets the requests in flight finish before the process exits.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:6543/healthz', timeout=2)"
CMD ["pserve", "production.ini"]
