# Sourced by ./mvnw and ./hotpath: point JAVA_HOME at a JDK 25 or newer, or stop with one line.
# Order: JAVA_HOME when it is 25+, then /usr/lib/jvm/*25* (and newer), then `java` on the PATH.
hotpath_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
hotpath_find_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    v=$(hotpath_java_major "$JAVA_HOME"); [ -n "$v" ] && [ "$v" -ge 25 ] && return 0
  fi
  set +f  # ./mvnw runs with globbing off
  for d in /usr/lib/jvm/*25* /usr/lib/jvm/*2[6-9]* /usr/lib/jvm/*3[0-9]*; do
    [ -x "$d/bin/javac" ] || continue
    v=$(hotpath_java_major "$d"); if [ -n "$v" ] && [ "$v" -ge 25 ]; then JAVA_HOME="$d"; export JAVA_HOME; return 0; fi
  done
  if command -v javac >/dev/null 2>&1; then
    d=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    v=$(hotpath_java_major "$d"); if [ -n "$v" ] && [ "$v" -ge 25 ]; then JAVA_HOME="$d"; export JAVA_HOME; return 0; fi
  fi
  echo "Hotpath needs a JDK 25 or newer: set JAVA_HOME to one (none found in JAVA_HOME, /usr/lib/jvm or on the PATH)." >&2
  exit 1
}
hotpath_find_jdk
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
