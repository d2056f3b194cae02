#pragma once
// Static analysis: the system calls a binary can reach, read from its code and from the code
// of every shared library it loads (DT_NEEDED, recursively, found as the dynamic loader finds
// them: RPATH/RUNPATH, /etc/ld.so.conf, the default directories), plus its interpreter.
//
// ELF files are read with libelf; executable sections are disassembled with capstone (linear
// sweep). Code is cut into chunks at every known entry (symbols, call targets, endbr64, code
// addresses taken by rip-relative operands or stored by relocations), and chunks are linked by
// direct calls and jumps, fall-through, code addresses taken, and calls through the GOT, whose
// relocations name the function called in another object (a libc wrapper) or an address of
// the same one. From the roots (the binary's entry point, every code address its relocations
// store, init and fini functions) the reachable chunks are walked across objects; every
// `syscall` instruction in them gives the number last moved into eax before it, and every call
// of libc's generic syscall() the number moved into edi. The dynamic loader's own calls all
// count (it runs at every start). The result over-approximates what the program can call
// (Loupe's static_binary.csv): a call whose number is computed at run time is counted as an
// unknown site, never guessed. Libraries loaded with dlopen() are seen when named in
// `loaded` (discovery records what the app opened): all their exported functions count, since
// dlsym() may reach any of them.

#include "util/error.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace explorer {

// One ELF object that the analysis read.
struct StaticObject {
  std::string path;
  std::string role;           // "binary", "library", "loaded" (dlopen) or "interpreter"
  uint64_t instructions = 0;  // decoded
  uint64_t syscall_sites = 0; // reachable syscall instructions (and syscall() calls)
  uint64_t unknown_sites = 0; // ... whose number is not a constant
};

struct StaticAnalysis {
  std::string binary;
  std::vector<int> syscalls; // reachable syscall numbers, ascending
  std::vector<StaticObject> objects;
  std::vector<std::string> missing_libraries; // DT_NEEDED names not found (not analysed)
  double seconds = 0;
};

// Analyses `binary` (an x86-64 ELF executable or shared object), the libraries it needs, and
// those of `loaded` that exist (paths, as a discovery names them; others are skipped). The
// error names the file that is not an x86-64 ELF object or cannot be read.
util::Result<StaticAnalysis> analyze_static(const std::filesystem::path& binary,
                                            const std::vector<std::string>& loaded = {});

void to_json(nlohmann::json& j, const StaticAnalysis& analysis);
void from_json(const nlohmann::json& j, StaticAnalysis& analysis);

} // namespace explorer
