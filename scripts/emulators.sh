#!/usr/bin/env bash
# Local Google Cloud emulators for the integration tests (tests/helpers/emulators/ starts them).
#
#   scripts/emulators.sh install   the BigQuery emulator (local-bigquery) in its own venv
#   scripts/emulators.sh check     say which emulators the tests will find
#
# GCS: gcp-storage-emulator lives in the main venv (dev extra). Pub/Sub: the official
# emulator that ships with the Google Cloud CLI. BigQuery: local-bigquery needs Python 3.13,
# so it gets a venv of its own ($BQ_VENV), with DuckDB's extensions installed from PyPI into
# $BQ_VENV/duckdb-home (DuckDB would otherwise download them at run time, which fails offline).
# With no Python 3.13 on the machine, install warns and exits 0 locally (the BigQuery tests then
# skip, named in pytest's summary); with CI=true it fails, and so does any failed install step.
set -euo pipefail

cd "$(dirname "$0")/.."
BQ_VENV=${BQ_VENV:-.venv-bq}
VENV=${VENV:-.venv}
case "$BQ_VENV" in
/*) ;;
*) BQ_VENV="$PWD/$BQ_VENV" ;;
esac

# Pinned (uv pip compile --python-version 3.13) so installs are fast and reproducible.
BQ_REQUIREMENTS='
local-bigquery==0.3.2
duckdb==1.5.5
duckdb-extensions==1.5.5
duckdb-extension-icu==1.5.5
duckdb-extension-ducklake==1.5.5
duckdb-extension-spatial==1.5.5
annotated-doc==0.0.7
annotated-types==0.8.0
anyio==4.16.0
certifi==2026.10.18
cffi==2.1.1
charset-normalizer==3.5.2
click==8.5.1
cryptography==50.0.2
fastapi==0.165.0
fastavro==1.13.1
google-api-core==2.44.0
google-auth==2.62.2
google-cloud-bigquery-storage==2.43.0
googleapis-common-protos==1.76.0
grpcio==1.85.1
grpcio-status==1.85.1
h11==0.16.0
idna==3.20
mini-racer==0.14.1
numpy==2.5.5
opentelemetry-api==1.45.2
prompt-toolkit==3.0.53
proto-plus==1.29.0
protobuf==7.36.2
pyarrow==26.0.1
pyasn1==0.6.5
pyasn1-modules==0.4.2
pycparser==3.12
pydantic==2.14.3
pydantic-core==2.50.4
pydantic-settings==2.16.3
pygments==2.21.0
python-dotenv==1.2.4
requests==2.34.2
sqlglot==30.30.0
starlette==1.10.0
typing-extensions==4.16.0
typing-inspection==0.4.5
urllib3==2.8.0
uvicorn==0.54.0
wcwidth==0.9.4
'
DUCKDB_EXTENSIONS="icu ducklake spatial"  # json and parquet are built into the duckdb wheel

is_python313() {
    [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null
}

find_python313() {
    local candidate
    for candidate in "${BQ_PYTHON:-}" "$(command -v python3.13 || true)" \
        "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.13*/bin/python3.13 \
        "$(uv python find --no-python-downloads 3.13 2>/dev/null || true)"; do
        if is_python313 "$candidate"; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

install_bigquery() {
    local stamp="$BQ_VENV/.installed" want python uv
    want=$(printf '%s\n%s\n' "$BQ_REQUIREMENTS" "$DUCKDB_EXTENSIONS" | sha256sum | cut -c1-16)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    if ! python=$(find_python313); then
        echo "emulators.sh: no Python 3.13 found (set BQ_PYTHON): BigQuery emulator tests will skip" >&2
        [ "${CI:-}" = "true" ] && return 1
        return 0
    fi
    echo "emulators.sh: installing local-bigquery into $BQ_VENV ($python)"
    rm -rf "$BQ_VENV"
    "$python" -m venv "$BQ_VENV"
    local requirements="$BQ_VENV/requirements.txt"
    printf '%s\n' "$BQ_REQUIREMENTS" >"$requirements"
    if [ -x "$VENV/bin/uv" ]; then
        uv="$VENV/bin/uv"
    else
        uv=$(command -v uv || true)
    fi
    if [ -n "$uv" ]; then
        "$uv" pip install -q --python "$BQ_VENV/bin/python" -r "$requirements"
    else
        "$BQ_VENV/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    fi
    # DuckDB looks for extensions under $HOME/.duckdb; tests/helpers/emulators/bigquery.py sets HOME to this.
    mkdir -p "$BQ_VENV/duckdb-home"
    HOME="$BQ_VENV/duckdb-home" "$BQ_VENV/bin/python" - $DUCKDB_EXTENSIONS <<'PY'
import sys

import duckdb
from duckdb_extensions import import_extension

for name in sys.argv[1:]:
    import_extension(name, force_install=True)
con = duckdb.connect(config={"TimeZone": "UTC"})
for name in sys.argv[1:]:
    con.execute(f"LOAD {name}")
print("emulators.sh: duckdb", duckdb.__version__, "extensions:", " ".join(sys.argv[1:]))
PY
    echo "$want" >"$stamp"
}

check() {
    local py="$VENV/bin/python"
    if "$py" -c "import gcp_storage_emulator" 2>/dev/null; then
        echo "GCS:      gcp-storage-emulator in $VENV"
    else
        echo "GCS:      missing (pip install gcp-storage-emulator into $VENV)"
    fi
    local sdk
    sdk=$(dirname "$(dirname "$(readlink -f "$(command -v gcloud || echo /nonexistent)")")")
    if [ -d "$sdk/platform/pubsub-emulator" ] && command -v java >/dev/null 2>&1; then
        echo "Pub/Sub:  $sdk/platform/pubsub-emulator"
    else
        echo "Pub/Sub:  missing (gcloud components install pubsub-emulator; needs Java)"
    fi
    if [ -x "$BQ_VENV/bin/local-bigquery" ] && [ -f "$BQ_VENV/.installed" ]; then
        echo "BigQuery: $BQ_VENV/bin/local-bigquery"
    else
        echo "BigQuery: missing (scripts/emulators.sh install)"
    fi
}

case "${1:-}" in
install)
    install_bigquery
    if [ "${CI:-}" = "true" ]; then
        # In CI every emulator the tests use must be here; a missing one fails the build.
        report=$(check)
        echo "$report"
        if echo "$report" | grep -q missing; then
            echo "emulators.sh: CI=true and an emulator is missing" >&2
            exit 1
        fi
    fi
    ;;
check) check ;;
*)
    echo "usage: $0 install|check" >&2
    exit 2
    ;;
esac
