#!/usr/bin/env bash
# The files the container image adds to an empty (scratch) base, written to OUT for Jib's
# extraDirectories (cli/pom.xml, profile "image"):
#   OUT/opt/java                 a JRE linked by jlink from JAVA_HOME with MODULES only
#   OUT/lib64, OUT/lib/x86_64-linux-gnu
#                                the glibc, libstdc++, libgcc_s (and whatever else ldd names) that
#                                the JRE and the native libraries inside the runtime jars need,
#                                copied from this machine, with each Debian package's copyright file
#   OUT/usr/lib/locale/C.utf8   the locale LANG names (UTF-8 file names and console output)
#   OUT/etc/passwd, group, nsswitch.conf   root and the image's user (UID:GID, no shell)
#   OUT/opt/hotpath/jvm.flags    the JVM flags (a java @argfile): FLAGS_FILE, then IMAGE_FLAGS
#   OUT/tmp, OUT/mnt/models      the writable scratch directory and the model mount point
# Two checks stop the build: a JDK module that a class on the runtime classpath uses and that is
# neither in MODULES nor in OPTIONAL (jdeps), and a native library that ldd cannot resolve for a
# jar other than the CUDA/TensorRT ones (those need the NVIDIA driver: not in this CPU image).
#
# usage: build-rootfs.sh JAVA_HOME OUT WORK CLASSPATH_FILE CLASSES_DIR MODULES OPTIONAL FLAGS_FILE IMAGE_FLAGS UID:GID
#   CLASSPATH_FILE  the runtime classpath, ':'-separated (dependency:build-classpath)
#   MODULES         comma-separated JDK modules to link; OPTIONAL: comma-separated modules left out on purpose
set -euo pipefail
trap 'echo "build-rootfs: failed at line $LINENO" >&2' ERR
[ $# -eq 10 ] || { awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
java_home=$1 out=$2 work=$3 classpath_file=$4 classes_dir=$5 modules=$6 optional=$7 flags_file=$8 image_flags=$9 ids=${10}
uid=${ids%%:*} gid=${ids##*:}
for tool in unzip ldd dpkg-query; do
  command -v "$tool" >/dev/null || { echo "build-rootfs: needs $tool (Debian/Ubuntu build machine)" >&2; exit 1; }
done

rm -rf "$out" "$work"
mkdir -p "$out" "$work"
IFS=: read -r -a jars < "$classpath_file" || [ ${#jars[@]} -gt 0 ]   # the file has no final newline

echo "build-rootfs: jlink $modules"
"$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --compress=zip-6 --generate-cds-archive --output "$out/opt/java"
# the CDS archive for heaps over 32 GiB (no compressed oops, 14 MB): Hotpath's tensors are off-heap,
# its heap stays small; such a JVM starts without CDS, a little slower
rm -f "$out/opt/java/lib/server/classes_nocoops.jsa"
linked=$("$out/opt/java/bin/java" --list-modules | sed 's/@.*//')

# --- jdeps: every JDK module the runtime classpath uses is linked or left out on purpose ---
# The jars' module-info files are dropped (the CUDA/TensorRT presets' descriptors name packages
# that the jars lack, which stops jdeps): every class is read as if on the class path.
mkdir -p "$work/classes"
for j in "${jars[@]}"; do
  d="$work/classes/$(basename "$j" .jar)"
  mkdir -p "$d"
  rc=0; unzip -qqo "$j" '*.class' -d "$d" || rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 11 ] || { echo "build-rootfs: cannot read $j (unzip $rc)" >&2; exit 1; }  # 11: no class in it
done
find "$work/classes" -name module-info.class -delete
jdk_modules=$("$java_home/bin/java" --list-modules | sed 's/@.*//')
used=$("$java_home/bin/jdeps" -summary --multi-release 25 --ignore-missing-deps "$classes_dir" "$work"/classes/* \
  | sed -n 's/^.* -> \([A-Za-z0-9_.]*\)$/\1/p' | sort -u | grep -Fx -f <(echo "$jdk_modules") || true)
missing=""
for m in $used; do
  grep -qFx "$m" <<< "$linked" && continue
  case ",$optional," in *",$m,"*) continue ;; esac
  missing="$missing $m"
done
if [ -n "$missing" ]; then
  echo "build-rootfs: the runtime classpath uses JDK modules that are not linked:$missing" >&2
  echo "  add them to image.jre.modules in cli/pom.xml, or to image.jre.optional with the reason" >&2
  exit 1
fi
echo "build-rootfs: jdeps: the classpath uses $(echo $used | tr ' ' ','); linked: $(echo $linked | tr ' ' ',')"

# --- native libraries: what ldd resolves outside the JRE and the jars comes from this machine ---
natives="$work/natives"
mkdir -p "$natives"
for j in "${jars[@]}"; do
  mapfile -t sos < <(unzip -Z1 "$j" | grep -E '\.so(\.[0-9]+)*$' || true)
  [ ${#sos[@]} -eq 0 ] || unzip -qqo "$j" "${sos[@]}" -d "$natives/$(basename "$j" .jar)"
done
# siblings in the same jar (and libjvm for the JRE's own libraries) resolve as JavaCPP and the JVM load them
search=$( { find "$natives" -name '*.so*' -type f -printf '%h\n'; echo "$out/opt/java/lib"; echo "$out/opt/java/lib/server"; } | sort -u | paste -sd:)
declare -A system_libs=()   # file name -> the path ldd resolved it to
gpu_libs=""
while IFS= read -r -d '' f; do
  head -c 4 "$f" | grep -q $'\x7fELF' || continue
  ldd_out=$(LD_LIBRARY_PATH="$search" ldd "$f" 2>&1) || continue   # "not a dynamic executable": static or not loadable here
  case "$f" in
    "$natives"/cuda-*|"$natives"/tensorrt-*)
      # the GPU engine's natives load only beside the NVIDIA driver and CUDA: nothing of theirs is
      # copied (even what this machine happens to have); the engine then reports itself unusable
      gpu_libs="$gpu_libs $(awk '/=> not found|=> \/usr\/local\/cuda/ {print $1}' <<< "$ldd_out" | paste -sd' ')"
      continue ;;
  esac
  while IFS= read -r line; do
    case "$line" in
      *"=> not found"*)
        echo "build-rootfs: ${f#"$work"/} needs $(awk '{print $1}' <<< "$line"), which ldd cannot find on this machine" >&2
        exit 1 ;;
      *"=> /"*)
        p=$(sed -n 's/^.*=> \(\/[^ ]*\) (0x.*$/\1/p' <<< "$line")
        case "$p" in "$natives"/*|"$out"/*) ;; *) system_libs[$(basename "$p")]=$p ;; esac ;;
      *ld-linux*) p=$(awk '{print $1}' <<< "$line"); system_libs[$(basename "$p")]=$p ;;
    esac
  done <<< "$ldd_out"
done < <(find "$natives" "$out/opt/java" -type f \( -name '*.so' -o -name '*.so.*' -o -path '*/bin/*' \) -print0)
# glibc loads libgcc_s itself (thread cancellation, backtraces): keep it even if nothing links it
system_libs[libgcc_s.so.1]=$(ldconfig -p | sed -n 's/^\s*libgcc_s.so.1 (libc6,x86-64) => //p' | head -n 1)
if [ -n "${gpu_libs// /}" ]; then
  echo "build-rootfs: left out (the CUDA/TensorRT natives need the NVIDIA driver and CUDA, not in this CPU image):$(tr ' ' '\n' <<< "$gpu_libs" | sort -u | paste -sd' ')"
fi

mkdir -p "$out/lib/x86_64-linux-gnu" "$out/lib64" "$out/usr/share/doc"
inventory="$out/usr/share/doc/hotpath-image/native-libraries.txt"
mkdir -p "$(dirname "$inventory")"
echo "# copied from the build machine ($(. /etc/os-release && echo "$PRETTY_NAME")) by cli/src/image/build-rootfs.sh" > "$inventory"
for name in $(printf '%s\n' "${!system_libs[@]}" | sort); do
  p=${system_libs[$name]}
  case "$(basename "$p")" in
    ld-linux-x86-64.so.2) dest="$out/lib64/ld-linux-x86-64.so.2" ;;   # the ELF interpreter's fixed path
    *) dest="$out/lib/x86_64-linux-gnu/$(basename "$p")" ;;
  esac
  cp -L "$p" "$dest"
  real=$(readlink -f "$p")
  pkg=$(dpkg-query -S "$real" 2>/dev/null || dpkg-query -S "${real#/usr}" 2>/dev/null || true)
  pkg=${pkg%%:*}
  if [ -n "$pkg" ]; then
    mkdir -p "$out/usr/share/doc/$pkg"
    cp -L "/usr/share/doc/$pkg/copyright" "$out/usr/share/doc/$pkg/copyright" 2>/dev/null || true
    echo "${dest#"$out"} $pkg $(dpkg-query -W -f='${Version}' "$pkg:amd64" 2>/dev/null || dpkg-query -W -f='${Version}' "$pkg")" >> "$inventory"
  else
    echo "${dest#"$out"} (no Debian package owns $real)" >> "$inventory"
  fi
done
echo "build-rootfs: ${#system_libs[@]} system libraries: $(printf '%s\n' "${!system_libs[@]}" | sort | paste -sd' ')"

# the C.UTF-8 locale (LANG in the image): without it the JVM reads and prints file names and
# stdout in ASCII. Debian's glibc loads it from these files rather than a built-in copy.
mkdir -p "$out/usr/lib/locale" "$out/usr/share/doc/libc-bin"
cp -a /usr/lib/locale/C.utf8 "$out/usr/lib/locale/"
cp -L /usr/share/doc/libc-bin/copyright "$out/usr/share/doc/libc-bin/copyright"
echo "/usr/lib/locale/C.utf8 libc-bin $(dpkg-query -W -f='${Version}' libc-bin)" >> "$inventory"

# --- the user, name lookups, the JVM flags, the writable and mounted directories ---
mkdir -p "$out/etc" "$out/tmp" "$out/mnt/models" "$out/opt/hotpath"
printf 'root:x:0:0:root:/root:/sbin/nologin\nhotpath:x:%s:%s:hotpath:/tmp:/sbin/nologin\n' "$uid" "$gid" > "$out/etc/passwd"
printf 'root:x:0:\nhotpath:x:%s:\n' "$gid" > "$out/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$out/etc/nsswitch.conf"
{ cat "$flags_file"; echo "$image_flags"; } | tr -s ' \n' '\n\n' | sed '/^$/d' > "$out/opt/hotpath/jvm.flags"
echo "build-rootfs: $(du -sh "$out" | cut -f1) in $out (JRE $(du -sh "$out/opt/java" | cut -f1), libraries $(du -sh "$out/lib" "$out/lib64" | cut -f1 | paste -sd+))"
