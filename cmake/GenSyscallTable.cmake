# Turns asm/unistd_64.h into `{nr, "name"},` lines (cmake -P script, run at build time).
file(STRINGS ${INPUT} lines REGEX "^#define __NR_[a-z0-9_]+ [0-9]+")
set(out "// Generated from ${INPUT}; do not edit.\n")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^#define __NR_([a-z0-9_]+) ([0-9]+).*" "{\\2, \"\\1\"}," entry "${line}")
  string(APPEND out "${entry}\n")
endforeach()
file(WRITE ${OUTPUT}.new "${out}")
file(COPY_FILE ${OUTPUT}.new ${OUTPUT} ONLY_IF_DIFFERENT)
