# BPF programs built from CMake, in the style of libbpf-bootstrap:
#
#   bpf_object(<name> <source.bpf.c> [HEADERS <shared headers...>])
#
# compiles <source.bpf.c> with clang (-target bpf, CO-RE against a vmlinux.h generated from the
# running kernel's BTF at build time), strips its DWARF (llvm-strip -g keeps BTF, which CO-RE
# needs), generates the libbpf skeleton <name>.skel.h with `bpftool gen skeleton`, and defines
# the INTERFACE target <name>_skel that puts the skeleton's directory on the include path and
# links libbpf. The skeleton's functions are named <name>_bpf__open/load/attach/destroy.
#
# Include it once (include_guard); bpf_object() works from any directory afterwards.
#
# Cache variables:
#   LUPA_VMLINUX_H  a pinned vmlinux.h to use instead of dumping /sys/kernel/btf/vmlinux
#                   (for build machines whose kernel has no BTF).

include_guard(GLOBAL)

find_program(LUPA_BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin)
find_program(LUPA_BPF_CLANG NAMES clang clang-16 clang-15 clang-14)
find_program(LUPA_LLVM_STRIP NAMES llvm-strip llvm-strip-16 llvm-strip-15 llvm-strip-14)
foreach(tool LUPA_BPFTOOL LUPA_BPF_CLANG LUPA_LLVM_STRIP)
  if(NOT ${tool})
    message(FATAL_ERROR "${tool} not found: the BPF programs of tracer/ need bpftool, clang and "
                        "llvm-strip (Debian packages bpftool, clang, llvm; run scripts/install-deps.sh)")
  endif()
endforeach()

set(LUPA_VMLINUX_H "" CACHE FILEPATH "A pinned vmlinux.h (default: generated from /sys/kernel/btf/vmlinux)")
set(LUPA_BPF_GEN_DIR ${CMAKE_BINARY_DIR}/bpf CACHE INTERNAL "generated BPF files")
set(lupa_bpf_gen_dir ${LUPA_BPF_GEN_DIR})
file(MAKE_DIRECTORY ${lupa_bpf_gen_dir})

if(LUPA_VMLINUX_H)
  if(NOT EXISTS ${LUPA_VMLINUX_H})
    message(FATAL_ERROR "LUPA_VMLINUX_H=${LUPA_VMLINUX_H} does not exist")
  endif()
  configure_file(${LUPA_VMLINUX_H} ${lupa_bpf_gen_dir}/vmlinux.h COPYONLY)
  add_custom_target(lupa_vmlinux_h)
elseif(NOT EXISTS /sys/kernel/btf/vmlinux)
  message(FATAL_ERROR
    "/sys/kernel/btf/vmlinux is missing: this kernel was built without BTF "
    "(CONFIG_DEBUG_INFO_BTF), so tracer/ cannot generate vmlinux.h for its CO-RE BPF programs. "
    "HINT: build on a kernel with BTF, or pass -DLUPA_VMLINUX_H=<path to a vmlinux.h> "
    "(e.g. from `bpftool btf dump file <vmlinux with BTF> format c` on another machine).")
else()
  add_custom_command(
    OUTPUT ${lupa_bpf_gen_dir}/vmlinux.h
    COMMAND ${LUPA_BPFTOOL} btf dump file /sys/kernel/btf/vmlinux format c > ${lupa_bpf_gen_dir}/vmlinux.h.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${lupa_bpf_gen_dir}/vmlinux.h.tmp ${lupa_bpf_gen_dir}/vmlinux.h
    COMMENT "Generating vmlinux.h from /sys/kernel/btf/vmlinux"
    VERBATIM)
  add_custom_target(lupa_vmlinux_h DEPENDS ${lupa_bpf_gen_dir}/vmlinux.h)
endif()

# The CPU architecture name libbpf's bpf_tracing.h expects (__TARGET_ARCH_<arch>).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(LUPA_BPF_ARCH x86 CACHE INTERNAL "__TARGET_ARCH_ of BPF programs")
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(LUPA_BPF_ARCH arm64 CACHE INTERNAL "__TARGET_ARCH_ of BPF programs")
else()
  message(FATAL_ERROR "BPF programs: unsupported architecture ${CMAKE_SYSTEM_PROCESSOR}")
endif()

# bpf_object(<name> <source.bpf.c> [HEADERS <files...>]): see the top of this file.
function(bpf_object name source)
  cmake_parse_arguments(ARG "" "" "HEADERS" ${ARGN})
  set(lupa_bpf_gen_dir ${LUPA_BPF_GEN_DIR})
  get_filename_component(source_abs ${source} ABSOLUTE)
  get_filename_component(source_dir ${source_abs} DIRECTORY)
  set(out_dir ${lupa_bpf_gen_dir}/${name})
  set(object ${out_dir}/${name}.bpf.o)
  set(skeleton ${out_dir}/${name}.skel.h)
  file(MAKE_DIRECTORY ${out_dir})

  add_custom_command(
    OUTPUT ${object}
    COMMAND ${LUPA_BPF_CLANG} -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_${LUPA_BPF_ARCH}
            -Wall -Wno-unused-function
            -I${lupa_bpf_gen_dir} -I${source_dir} -I${PROJECT_SOURCE_DIR}
            -c ${source_abs} -o ${object}
    COMMAND ${LUPA_LLVM_STRIP} -g ${object}
    DEPENDS ${source_abs} ${ARG_HEADERS} ${lupa_bpf_gen_dir}/vmlinux.h lupa_vmlinux_h
    COMMENT "Compiling BPF program ${name} (${source})"
    VERBATIM)

  add_custom_command(
    OUTPUT ${skeleton}
    COMMAND ${LUPA_BPFTOOL} gen skeleton ${object} name ${name}_bpf > ${skeleton}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skeleton}.tmp ${skeleton}
    DEPENDS ${object}
    COMMENT "Generating BPF skeleton ${name}.skel.h"
    VERBATIM)

  add_custom_target(${name}_skel_gen DEPENDS ${skeleton})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE ${out_dir})
  target_link_libraries(${name}_skel INTERFACE PkgConfig::LIBBPF PkgConfig::LIBELF)
endfunction()
