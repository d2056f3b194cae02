# Every external dependency, found once, as imported targets. All come from Debian
# (scripts/install-deps.sh installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(GTest REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 CONFIG REQUIRED)

# libseccomp: the explorer links the static archive so it runs in any container.
find_library(SECCOMP_STATIC libseccomp.a REQUIRED)
find_path(SECCOMP_INCLUDE seccomp.h REQUIRED)
add_library(lupa::seccomp STATIC IMPORTED)
set_target_properties(lupa::seccomp PROPERTIES IMPORTED_LOCATION ${SECCOMP_STATIC}
  INTERFACE_INCLUDE_DIRECTORIES ${SECCOMP_INCLUDE})

# fmt is used header-only: Debian ships no libfmt.a, and the explorer must be static.
find_path(FMT_INCLUDE fmt/format.h REQUIRED)
add_library(lupa::fmt INTERFACE IMPORTED)
set_target_properties(lupa::fmt PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${FMT_INCLUDE}
  INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)

find_path(TOMLPP_INCLUDE toml++/toml.h REQUIRED)
add_library(lupa::tomlplusplus INTERFACE IMPORTED)
set_target_properties(lupa::tomlplusplus PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${TOMLPP_INCLUDE})

pkg_check_modules(LIBGIT2 REQUIRED IMPORTED_TARGET libgit2)
pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf)
pkg_check_modules(LIBELF REQUIRED IMPORTED_TARGET libelf)
pkg_check_modules(CAPSTONE REQUIRED IMPORTED_TARGET capstone)
find_package(SQLiteCpp REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS filesystem)

find_program(GNUPLOT gnuplot)
find_program(STRACE strace)
