#include "explorer/static_analysis.h"

#include "core/syscalls.h"
#include "util/fs.h"
#include "util/strings.h"

#include <capstone/capstone.h>
#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <glob.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>

namespace explorer {

namespace {

using Clock = std::chrono::steady_clock;

// How an instruction ends (or not) the straight-line flow.
enum class Flow : uint8_t {
  normal,
  terminator, // ret, jmp, ud2, hlt: no fall-through
  padding,    // nop, int3: alignment between functions
};

// ---- register tracking for syscall numbers ------------------------------------------------

// The 16 general-purpose registers, by family (rax = eax = ax = al = ah).
enum Gpr : uint8_t {
  rax,
  rcx,
  rdx,
  rbx,
  rsp,
  rbp,
  rsi,
  rdi,
  r8,
  r9,
  r10,
  r11,
  r12,
  r13,
  r14,
  r15,
  no_gpr = 0xff
};

Gpr family_of(unsigned reg) {
  switch (reg) {
  case X86_REG_RAX:
  case X86_REG_EAX:
  case X86_REG_AX:
  case X86_REG_AL:
  case X86_REG_AH:
    return rax;
  case X86_REG_RCX:
  case X86_REG_ECX:
  case X86_REG_CX:
  case X86_REG_CL:
  case X86_REG_CH:
    return rcx;
  case X86_REG_RDX:
  case X86_REG_EDX:
  case X86_REG_DX:
  case X86_REG_DL:
  case X86_REG_DH:
    return rdx;
  case X86_REG_RBX:
  case X86_REG_EBX:
  case X86_REG_BX:
  case X86_REG_BL:
  case X86_REG_BH:
    return rbx;
  case X86_REG_RSP:
  case X86_REG_ESP:
  case X86_REG_SP:
  case X86_REG_SPL:
    return rsp;
  case X86_REG_RBP:
  case X86_REG_EBP:
  case X86_REG_BP:
  case X86_REG_BPL:
    return rbp;
  case X86_REG_RSI:
  case X86_REG_ESI:
  case X86_REG_SI:
  case X86_REG_SIL:
    return rsi;
  case X86_REG_RDI:
  case X86_REG_EDI:
  case X86_REG_DI:
  case X86_REG_DIL:
    return rdi;
  case X86_REG_R8:
  case X86_REG_R8D:
  case X86_REG_R8W:
  case X86_REG_R8B:
    return r8;
  case X86_REG_R9:
  case X86_REG_R9D:
  case X86_REG_R9W:
  case X86_REG_R9B:
    return r9;
  case X86_REG_R10:
  case X86_REG_R10D:
  case X86_REG_R10W:
  case X86_REG_R10B:
    return r10;
  case X86_REG_R11:
  case X86_REG_R11D:
  case X86_REG_R11W:
  case X86_REG_R11B:
    return r11;
  case X86_REG_R12:
  case X86_REG_R12D:
  case X86_REG_R12W:
  case X86_REG_R12B:
    return r12;
  case X86_REG_R13:
  case X86_REG_R13D:
  case X86_REG_R13W:
  case X86_REG_R13B:
    return r13;
  case X86_REG_R14:
  case X86_REG_R14D:
  case X86_REG_R14W:
  case X86_REG_R14B:
    return r14;
  case X86_REG_R15:
  case X86_REG_R15D:
  case X86_REG_R15W:
  case X86_REG_R15B:
    return r15;
  default:
    return no_gpr;
  }
}

constexpr uint16_t bit(Gpr r) {
  return static_cast<uint16_t>(1u << r);
}

// What a call may change: the caller-saved registers of the System V ABI.
constexpr uint16_t k_caller_saved =
    bit(rax) | bit(rcx) | bit(rdx) | bit(rsi) | bit(rdi) | bit(r8) | bit(r9) | bit(r10) | bit(r11);

// What one instruction does to the general-purpose registers.
struct RegEffect {
  enum class Kind : uint8_t { other, set, copy } kind = Kind::other;
  Gpr dest = no_gpr; // set: dest = value; copy: dest = src
  Gpr src = no_gpr;
  int32_t value = 0;
  uint16_t written = 0; // every register family it may change
};

// What an instruction tells about reachability.
struct Event {
  enum class Kind : uint8_t {
    edge,    // a direct call or jump, or a code address taken: `target`
    slot,    // a rip-relative memory operand at `target` (a GOT slot, a data word)
    syscall, // a syscall instruction; `number` is eax, or -1
  };
  uint64_t address = 0;
  Kind kind = Kind::edge;
  bool call = false; // edge or slot: a call, or a jump (a tail call)
  bool jump = false; // edge: a jump (conditional or not)
  uint64_t target = 0;
};

// A relocation: the word at its offset becomes `symbol`'s address (+ addend), or, without a
// symbol, this object's address `addend`.
struct Reloc {
  uint32_t type = 0;
  std::string symbol;
  uint64_t addend = 0;
};

struct CodeRange {
  uint64_t begin = 0;
  uint64_t end = 0;
};

// One ELF object, decoded.
struct Object {
  std::string path;
  std::string role;
  bool executable_image = false; // ET_EXEC: absolute addresses may appear as immediates
  uint64_t entry = 0;
  std::string interpreter;
  std::vector<std::string> needed;
  std::vector<std::string> search_path; // RPATH/RUNPATH, $ORIGIN expanded
  bool has_runpath = false;
  std::vector<CodeRange> code;
  std::vector<uint64_t> insn_addresses; // every decoded instruction, ascending
  std::vector<Flow> insn_flow;
  std::vector<RegEffect> insn_effects;
  std::vector<uint8_t> insn_sizes;
  std::unordered_map<uint64_t, std::vector<uint32_t>> jump_sources; // target -> jump insns
  std::vector<Event> events;                                        // ascending by address
  std::unordered_map<uint64_t, Reloc> relocs;
  std::unordered_map<std::string, uint64_t> exports; // defined functions of .dynsym
  std::vector<uint64_t> starts;                      // entries known before decoding
  std::vector<uint64_t> roots;                       // reachable whatever the calls
  // Filled by the walk.
  std::vector<uint64_t> chunks; // chunk starts, ascending
  std::vector<bool> reached;
  uint64_t syscall_sites = 0;
  uint64_t unknown_sites = 0;

  bool in_code(uint64_t address) const {
    return std::any_of(code.begin(), code.end(),
                       [&](const CodeRange& r) { return address >= r.begin && address < r.end; });
  }
  bool is_instruction(uint64_t address) const {
    return std::binary_search(insn_addresses.begin(), insn_addresses.end(), address);
  }
  // The index of the instruction at `address`, or -1.
  int64_t index_of(uint64_t address) const {
    auto it = std::lower_bound(insn_addresses.begin(), insn_addresses.end(), address);
    return it != insn_addresses.end() && *it == address ? it - insn_addresses.begin() : -1;
  }
  // The chunk holding `address`, or -1.
  int chunk_of(uint64_t address) const {
    if (!in_code(address)) {
      return -1;
    }
    auto it = std::upper_bound(chunks.begin(), chunks.end(), address);
    return it == chunks.begin() ? -1 : static_cast<int>(it - chunks.begin() - 1);
  }
};

struct ElfCloser {
  void operator()(Elf* elf) const { elf_end(elf); }
};
using ElfHandle = std::unique_ptr<Elf, ElfCloser>;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

struct CapstoneHandle {
  csh handle = 0;
  ~CapstoneHandle() {
    if (handle != 0) {
      cs_close(&handle);
    }
  }
};

RegEffect effect_of(csh handle, const cs_insn& insn) {
  RegEffect e;
  const cs_x86& x = insn.detail->x86;
  if (insn.id == X86_INS_CALL) {
    e.written = k_caller_saved;
    return e;
  }
  cs_regs read{};
  cs_regs written{};
  uint8_t n_read = 0;
  uint8_t n_written = 0;
  if (cs_regs_access(handle, &insn, read, &n_read, written, &n_written) == CS_ERR_OK) {
    for (uint8_t i = 0; i < n_written; ++i) {
      if (Gpr f = family_of(written[i]); f != no_gpr) {
        e.written |= bit(f);
      }
    }
  }
  if (x.op_count != 2 || x.operands[0].type != X86_OP_REG) {
    return e;
  }
  Gpr dest = family_of(x.operands[0].reg);
  bool wide = x.operands[0].size >= 4; // 8- and 16-bit writes keep the other bits
  if (dest == no_gpr || !wide) {
    return e;
  }
  const cs_x86_op& src = x.operands[1];
  if ((insn.id == X86_INS_MOV || insn.id == X86_INS_MOVABS) && src.type == X86_OP_IMM) {
    if (src.imm >= INT32_MIN && src.imm <= INT32_MAX) {
      e.kind = RegEffect::Kind::set;
      e.value = static_cast<int32_t>(src.imm);
    }
  } else if ((insn.id == X86_INS_XOR || insn.id == X86_INS_SUB) && src.type == X86_OP_REG &&
             src.reg == x.operands[0].reg) {
    e.kind = RegEffect::Kind::set;
    e.value = 0;
  } else if (insn.id == X86_INS_MOV && src.type == X86_OP_REG && src.size >= 4 &&
             family_of(src.reg) != no_gpr) {
    e.kind = RegEffect::Kind::copy;
    e.src = family_of(src.reg);
  }
  if (e.kind != RegEffect::Kind::other) {
    e.dest = dest;
  }
  return e;
}

// ---- reading one object -------------------------------------------------------------------

Flow flow_of(csh handle, const cs_insn& insn) {
  if (insn.id == X86_INS_NOP || insn.id == X86_INS_INT3) {
    return Flow::padding;
  }
  if (insn.id == X86_INS_JMP || insn.id == X86_INS_LJMP || insn.id == X86_INS_UD2 ||
      insn.id == X86_INS_HLT || cs_insn_group(handle, &insn, X86_GRP_RET)) {
    return Flow::terminator;
  }
  return Flow::normal;
}

// Decodes the code at `bytes` (`size` bytes at `address`) into `obj`.
void decode(csh handle, const uint8_t* bytes, size_t size, uint64_t address, Object& obj) {
  cs_insn* insn = cs_malloc(handle);
  const uint8_t* code = bytes;
  uint64_t at = address;
  while (size > 0) {
    if (!cs_disasm_iter(handle, &code, &size, &at, insn)) {
      // Not an instruction (data in code, or padding capstone does not know): resync.
      ++code;
      ++at;
      --size;
      continue;
    }
    obj.insn_addresses.push_back(insn->address);
    obj.insn_flow.push_back(flow_of(handle, *insn));
    obj.insn_effects.push_back(effect_of(handle, *insn));
    obj.insn_sizes.push_back(static_cast<uint8_t>(insn->size));
    const cs_x86& x = insn->detail->x86;
    bool is_call = insn->id == X86_INS_CALL;
    bool is_jump = cs_insn_group(handle, insn, X86_GRP_JUMP);
    bool transfer = is_call || insn->id == X86_INS_JMP; // a call, or a tail call
    if (insn->id == X86_INS_ENDBR64) {
      obj.starts.push_back(insn->address);
    }
    if (insn->id == X86_INS_SYSCALL) {
      obj.events.push_back({insn->address, Event::Kind::syscall});
    }
    for (uint8_t i = 0; i < x.op_count; ++i) {
      const cs_x86_op& op = x.operands[i];
      if (op.type == X86_OP_IMM && (is_call || is_jump)) {
        obj.events.push_back(
            {insn->address, Event::Kind::edge, transfer, is_jump, static_cast<uint64_t>(op.imm)});
      } else if (op.type == X86_OP_IMM && obj.executable_image &&
                 obj.in_code(static_cast<uint64_t>(op.imm))) {
        obj.events.push_back(
            {insn->address, Event::Kind::edge, false, false, static_cast<uint64_t>(op.imm)});
      } else if (op.type == X86_OP_MEM && op.mem.base == X86_REG_RIP) {
        uint64_t target = insn->address + insn->size + static_cast<uint64_t>(op.mem.disp);
        bool code_address = obj.in_code(target) && insn->id == X86_INS_LEA;
        obj.events.push_back({insn->address, code_address ? Event::Kind::edge : Event::Kind::slot,
                              transfer, false, target});
      }
    }
  }
  cs_free(insn, 1);
}

// The values register `reg` may hold right before instruction `index` of `obj`, found by
// walking back along the straight-line code and into the jumps that lead there (at most
// `budget` instructions in all). `unknown` is set when some path gives no constant.
void values_before(const Object& obj, int64_t index, Gpr reg, int& budget, std::set<int>& out,
                   bool& unknown, int depth = 0) {
  for (int64_t j = index - 1;; --j) {
    // Code at `j + 1` may also be entered by jumps: follow them back too.
    uint64_t here = obj.insn_addresses[static_cast<size_t>(j + 1)];
    if (auto it = obj.jump_sources.find(here); it != obj.jump_sources.end()) {
      if (depth >= 4) {
        unknown = true;
      } else {
        for (uint32_t source : it->second) {
          values_before(obj, source, reg, budget, out, unknown, depth + 1);
        }
      }
    }
    if (j < 0 || --budget < 0 ||
        obj.insn_addresses[static_cast<size_t>(j)] + obj.insn_sizes[static_cast<size_t>(j)] !=
            here) {
      unknown = true; // the start of the code, too far, or a gap
      return;
    }
    if (obj.insn_flow[static_cast<size_t>(j)] == Flow::terminator) {
      return; // no fall-through into `here`: only the jumps above lead there
    }
    const RegEffect& e = obj.insn_effects[static_cast<size_t>(j)];
    if (e.dest == reg && e.kind == RegEffect::Kind::set) {
      if (e.value >= 0 && e.value <= core::k_max_syscall_nr) {
        out.insert(e.value);
      } else {
        unknown = true;
      }
      return;
    }
    if (e.dest == reg && e.kind == RegEffect::Kind::copy) {
      reg = e.src; // follow the register it was copied from
      continue;
    }
    if (e.written & bit(reg)) {
      unknown = true;
      return;
    }
  }
}

// The syscall numbers register `reg` may hold at the instruction at `address`.
std::set<int> values_at(const Object& obj, uint64_t address, Gpr reg, bool& unknown) {
  std::set<int> out;
  int64_t index = obj.index_of(address);
  int budget = 256;
  if (index < 0) {
    unknown = true;
    return out;
  }
  values_before(obj, index, reg, budget, out, unknown);
  return out;
}

// The words of section data `data` (an init/fini array).
std::vector<uint64_t> words_of(Elf_Data* data) {
  std::vector<uint64_t> out;
  if (data == nullptr || data->d_buf == nullptr) {
    return out;
  }
  const auto* p = static_cast<const uint8_t*>(data->d_buf);
  for (size_t off = 0; off + 8 <= data->d_size; off += 8) {
    uint64_t word = 0;
    std::memcpy(&word, p + off, 8);
    out.push_back(word);
  }
  return out;
}

std::string origin_expanded(std::string entry, const std::filesystem::path& origin) {
  for (const char* token : {"$ORIGIN", "${ORIGIN}"}) {
    for (size_t at = entry.find(token); at != std::string::npos; at = entry.find(token)) {
      entry.replace(at, std::strlen(token), origin.string());
    }
  }
  return entry;
}

// Reads the ELF object at `path` (its role in the program: `role`).
util::Result<Object> read_object(const std::filesystem::path& path, const std::string& role) {
  Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) {
    return util::error(util::system_error_message(fmt::format("cannot open {}", path.string())));
  }
  ElfHandle elf(elf_begin(fd.fd, ELF_C_READ_MMAP, nullptr));
  GElf_Ehdr ehdr{};
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF || gelf_getehdr(elf.get(), &ehdr) == nullptr) {
    return util::error(fmt::format("{} is not an ELF file", path.string()));
  }
  if (gelf_getclass(elf.get()) != ELFCLASS64 || ehdr.e_machine != EM_X86_64) {
    return util::error(fmt::format("{} is not an x86-64 ELF object", path.string()));
  }
  if (ehdr.e_type != ET_EXEC && ehdr.e_type != ET_DYN) {
    return util::error(
        fmt::format("{} is neither an executable nor a shared object", path.string()));
  }
  Object obj;
  obj.path = path.string();
  obj.role = role;
  obj.executable_image = ehdr.e_type == ET_EXEC;
  obj.entry = ehdr.e_entry;

  size_t phnum = 0;
  elf_getphdrnum(elf.get(), &phnum);
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr phdr{};
    if (gelf_getphdr(elf.get(), static_cast<int>(i), &phdr) != nullptr &&
        phdr.p_type == PT_INTERP) {
      size_t size = 0;
      const char* image = elf_rawfile(elf.get(), &size);
      if (image != nullptr && phdr.p_offset + phdr.p_filesz <= size) {
        obj.interpreter =
            std::string(image + phdr.p_offset, ::strnlen(image + phdr.p_offset, phdr.p_filesz));
      }
    }
  }

  size_t shstrndx = 0;
  elf_getshdrstrndx(elf.get(), &shstrndx);
  std::vector<std::pair<Elf_Scn*, GElf_Shdr>> sections;
  for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn != nullptr;
       scn = elf_nextscn(elf.get(), scn)) {
    GElf_Shdr shdr{};
    if (gelf_getshdr(scn, &shdr) != nullptr) {
      sections.emplace_back(scn, shdr);
    }
  }
  for (const auto& [scn, shdr] : sections) {
    if (shdr.sh_type == SHT_PROGBITS && (shdr.sh_flags & SHF_EXECINSTR) && shdr.sh_size > 0) {
      obj.code.push_back({shdr.sh_addr, shdr.sh_addr + shdr.sh_size});
      obj.starts.push_back(shdr.sh_addr);
    }
  }
  std::sort(obj.code.begin(), obj.code.end(),
            [](const CodeRange& a, const CodeRange& b) { return a.begin < b.begin; });

  std::vector<uint64_t> array_words;
  std::filesystem::path origin = std::filesystem::absolute(path).parent_path();
  for (const auto& [scn, shdr] : sections) {
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) {
      continue;
    }
    if (shdr.sh_type == SHT_DYNSYM || shdr.sh_type == SHT_SYMTAB) {
      size_t count = shdr.sh_entsize ? shdr.sh_size / shdr.sh_entsize : 0;
      for (size_t i = 0; i < count; ++i) {
        GElf_Sym sym{};
        if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) {
          continue;
        }
        int type = GELF_ST_TYPE(sym.st_info);
        bool function = type == STT_FUNC || type == STT_GNU_IFUNC;
        if (!function || sym.st_shndx == SHN_UNDEF || sym.st_value == 0) {
          continue;
        }
        obj.starts.push_back(sym.st_value);
        int bind = GELF_ST_BIND(sym.st_info);
        if (shdr.sh_type == SHT_DYNSYM && (bind == STB_GLOBAL || bind == STB_WEAK)) {
          const char* name = elf_strptr(elf.get(), shdr.sh_link, sym.st_name);
          if (name != nullptr) {
            obj.exports.emplace(name, sym.st_value);
          }
        }
      }
    } else if (shdr.sh_type == SHT_RELA) {
      // The symbols of these relocations are in section sh_link.
      Elf_Scn* symscn = elf_getscn(elf.get(), shdr.sh_link);
      GElf_Shdr symhdr{};
      Elf_Data* symdata = symscn != nullptr ? elf_getdata(symscn, nullptr) : nullptr;
      bool have_symbols = symscn != nullptr && gelf_getshdr(symscn, &symhdr) != nullptr;
      size_t count = shdr.sh_entsize ? shdr.sh_size / shdr.sh_entsize : 0;
      for (size_t i = 0; i < count; ++i) {
        GElf_Rela rela{};
        if (gelf_getrela(data, static_cast<int>(i), &rela) == nullptr) {
          continue;
        }
        Reloc reloc;
        reloc.type = static_cast<uint32_t>(GELF_R_TYPE(rela.r_info));
        reloc.addend = static_cast<uint64_t>(rela.r_addend);
        size_t sym_index = GELF_R_SYM(rela.r_info);
        if (sym_index != 0 && have_symbols && symdata != nullptr) {
          GElf_Sym sym{};
          if (gelf_getsym(symdata, static_cast<int>(sym_index), &sym) != nullptr) {
            const char* name = elf_strptr(elf.get(), symhdr.sh_link, sym.st_name);
            reloc.symbol = name != nullptr ? name : "";
            // A symbol this object defines itself: its address stands for it too.
            if (sym.st_shndx != SHN_UNDEF) {
              reloc.addend += sym.st_value;
            }
          }
        }
        obj.relocs[rela.r_offset] = std::move(reloc);
      }
    } else if (shdr.sh_type == SHT_INIT_ARRAY || shdr.sh_type == SHT_FINI_ARRAY ||
               shdr.sh_type == SHT_PREINIT_ARRAY) {
      std::vector<uint64_t> words = words_of(data);
      array_words.insert(array_words.end(), words.begin(), words.end());
    } else if (shdr.sh_type == SHT_DYNAMIC) {
      size_t count = shdr.sh_entsize ? shdr.sh_size / shdr.sh_entsize : 0;
      std::vector<std::string> rpath;
      std::vector<std::string> runpath;
      for (size_t i = 0; i < count; ++i) {
        GElf_Dyn dyn{};
        if (gelf_getdyn(data, static_cast<int>(i), &dyn) == nullptr) {
          continue;
        }
        auto text = [&] {
          const char* s = elf_strptr(elf.get(), shdr.sh_link, dyn.d_un.d_val);
          return std::string(s != nullptr ? s : "");
        };
        switch (dyn.d_tag) {
        case DT_NEEDED:
          obj.needed.push_back(text());
          break;
        case DT_RPATH:
          rpath = util::split(text(), ':');
          break;
        case DT_RUNPATH:
          runpath = util::split(text(), ':');
          break;
        case DT_INIT:
        case DT_FINI:
          obj.roots.push_back(dyn.d_un.d_ptr);
          break;
        default:
          break;
        }
      }
      obj.has_runpath = !runpath.empty();
      for (const std::string& dir : obj.has_runpath ? runpath : rpath) {
        if (!dir.empty()) {
          obj.search_path.push_back(origin_expanded(dir, origin));
        }
      }
    }
  }

  // Code addresses stored in data (function pointers, vtables, init arrays) are entries, and
  // reachable: the program may call any of them. GOT slots are not: the code that loads them
  // is followed instead.
  for (const auto& [offset, reloc] : obj.relocs) {
    bool got = reloc.type == R_X86_64_JUMP_SLOT || reloc.type == R_X86_64_GLOB_DAT;
    if (!got && obj.in_code(reloc.addend)) {
      obj.roots.push_back(reloc.addend);
    }
  }
  for (uint64_t word : array_words) {
    if (obj.in_code(word)) {
      obj.roots.push_back(word);
    }
  }
  if (role == "binary" && obj.in_code(obj.entry)) {
    obj.roots.push_back(obj.entry);
  }

  CapstoneHandle cs;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs.handle) != CS_ERR_OK) {
    return util::error("capstone: cannot open an x86-64 disassembler");
  }
  cs_option(cs.handle, CS_OPT_DETAIL, CS_OPT_ON);
  for (const auto& [scn, shdr] : sections) {
    if (shdr.sh_type != SHT_PROGBITS || !(shdr.sh_flags & SHF_EXECINSTR) || shdr.sh_size == 0) {
      continue;
    }
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data != nullptr && data->d_buf != nullptr) {
      decode(cs.handle, static_cast<const uint8_t*>(data->d_buf), data->d_size, shdr.sh_addr, obj);
    }
  }
  // Sections may come in any order: sort the instructions, and the events with them.
  if (!std::is_sorted(obj.insn_addresses.begin(), obj.insn_addresses.end())) {
    std::vector<size_t> order(obj.insn_addresses.size());
    for (size_t i = 0; i < order.size(); ++i) {
      order[i] = i;
    }
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return obj.insn_addresses[a] < obj.insn_addresses[b]; });
    auto permuted = [&](const auto& v) {
      std::remove_cvref_t<decltype(v)> out(v.size());
      for (size_t i = 0; i < order.size(); ++i) {
        out[i] = v[order[i]];
      }
      return out;
    };
    obj.insn_addresses = permuted(obj.insn_addresses);
    obj.insn_flow = permuted(obj.insn_flow);
    obj.insn_effects = permuted(obj.insn_effects);
    obj.insn_sizes = permuted(obj.insn_sizes);
  }
  std::stable_sort(obj.events.begin(), obj.events.end(),
                   [](const Event& a, const Event& b) { return a.address < b.address; });
  for (const Event& e : obj.events) {
    if (e.kind == Event::Kind::edge && e.jump) {
      int64_t source = obj.index_of(e.address);
      if (source >= 0) {
        obj.jump_sources[e.target].push_back(static_cast<uint32_t>(source));
      }
    }
  }

  // Chunks: every known entry that is an instruction.
  std::vector<uint64_t> starts = obj.starts;
  starts.insert(starts.end(), obj.roots.begin(), obj.roots.end());
  for (const Event& e : obj.events) {
    if (e.kind == Event::Kind::edge) {
      starts.push_back(e.target);
    }
  }
  for (uint64_t s : starts) {
    if (obj.is_instruction(s)) {
      obj.chunks.push_back(s);
    }
  }
  for (const CodeRange& r : obj.code) {
    obj.chunks.push_back(r.begin);
  }
  std::sort(obj.chunks.begin(), obj.chunks.end());
  obj.chunks.erase(std::unique(obj.chunks.begin(), obj.chunks.end()), obj.chunks.end());
  obj.reached.assign(obj.chunks.size(), false);
  return obj;
}

// ---- finding the libraries ----------------------------------------------------------------

// The directories of /etc/ld.so.conf and the files it includes.
void read_ld_so_conf(const std::filesystem::path& file, std::vector<std::string>& dirs,
                     int depth = 0) {
  util::Result<std::string> text = util::read_file(file);
  if (!text || depth > 4) {
    return;
  }
  for (const std::string& raw : util::split(*text, '\n')) {
    std::string line(util::trim(raw.substr(0, raw.find('#'))));
    if (line.empty() || line.starts_with("hwcap")) {
      continue;
    }
    if (line.starts_with("include")) {
      std::string pattern(util::trim(line.substr(7)));
      if (!pattern.starts_with('/')) {
        pattern = (file.parent_path() / pattern).string();
      }
      glob_t found{};
      if (::glob(pattern.c_str(), 0, nullptr, &found) == 0) {
        for (size_t i = 0; i < found.gl_pathc; ++i) {
          read_ld_so_conf(found.gl_pathv[i], dirs, depth + 1);
        }
      }
      ::globfree(&found);
      continue;
    }
    dirs.push_back(line);
  }
}

const std::vector<std::string>& system_library_dirs() {
  static const std::vector<std::string> dirs = [] {
    std::vector<std::string> out;
    if (const char* env = std::getenv("LD_LIBRARY_PATH")) {
      for (const std::string& d : util::split(env, ':')) {
        if (!d.empty()) {
          out.push_back(d);
        }
      }
    }
    read_ld_so_conf("/etc/ld.so.conf", out);
    for (const char* d : {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
                          "/usr/lib64", "/lib", "/usr/lib"}) {
      out.emplace_back(d);
    }
    return out;
  }();
  return dirs;
}

// True if `path` is an x86-64 ELF object (a library of another architecture is skipped).
bool is_x86_64_elf(const std::filesystem::path& path) {
  Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  unsigned char header[20] = {};
  if (fd.fd < 0 || ::pread(fd.fd, header, sizeof(header), 0) != sizeof(header)) {
    return false;
  }
  return std::memcmp(header, ELFMAG, SELFMAG) == 0 && header[EI_CLASS] == ELFCLASS64 &&
         header[18] == EM_X86_64 && header[19] == 0;
}

// Where the loader finds `name` for `requester` (the binary's RPATH applies to all), if found.
std::optional<std::filesystem::path> find_library(const std::string& name, const Object& requester,
                                                  const Object& binary) {
  if (name.find('/') != std::string::npos) {
    return is_x86_64_elf(name) ? std::optional<std::filesystem::path>(name) : std::nullopt;
  }
  std::vector<std::string> dirs = requester.search_path;
  if (!requester.has_runpath && !binary.has_runpath && &requester != &binary) {
    dirs.insert(dirs.end(), binary.search_path.begin(), binary.search_path.end());
  }
  const std::vector<std::string>& system = system_library_dirs();
  dirs.insert(dirs.end(), system.begin(), system.end());
  for (const std::string& dir : dirs) {
    std::filesystem::path candidate = std::filesystem::path(dir) / name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec) && is_x86_64_elf(candidate)) {
      return candidate;
    }
  }
  return std::nullopt;
}

// ---- the walk -----------------------------------------------------------------------------

class Program {
public:
  explicit Program(std::vector<Object> objects) : m_objects(std::move(objects)) {
    for (size_t i = 0; i < m_objects.size(); ++i) {
      for (const auto& [name, address] : m_objects[i].exports) {
        m_exports.emplace(name, std::make_pair(i, address)); // the first definition wins
      }
    }
  }

  // Walks from every root; returns the syscall numbers reached.
  std::set<int> walk() {
    for (size_t i = 0; i < m_objects.size(); ++i) {
      Object& obj = m_objects[i];
      if (obj.role == "interpreter") {
        // The dynamic loader runs at every start: all of it counts.
        for (size_t c = 0; c < obj.chunks.size(); ++c) {
          enqueue(i, static_cast<int>(c));
        }
      }
      for (uint64_t root : obj.roots) {
        enqueue(i, obj.chunk_of(root));
      }
    }
    while (!m_queue.empty()) {
      auto [index, chunk] = m_queue.front();
      m_queue.pop_front();
      visit(index, static_cast<size_t>(chunk));
    }
    return m_numbers;
  }

  std::vector<Object>& objects() { return m_objects; }

private:
  void enqueue(size_t index, int chunk) {
    Object& obj = m_objects[index];
    if (chunk >= 0 && !obj.reached[static_cast<size_t>(chunk)]) {
      obj.reached[static_cast<size_t>(chunk)] = true;
      m_queue.emplace_back(index, chunk);
    }
  }

  // The function that symbol `name` resolves to, program-wide.
  void enqueue_symbol(const std::string& name) {
    auto it = m_exports.find(name);
    if (it != m_exports.end()) {
      enqueue(it->second.first, m_objects[it->second.first].chunk_of(it->second.second));
    }
  }

  // A syscall site at `address` of `obj` whose number is in register `reg`: a syscall
  // instruction (eax), or a call of libc's generic syscall() (its first argument, edi).
  void site(Object& obj, uint64_t address, Gpr reg) {
    ++obj.syscall_sites;
    bool unknown = false;
    std::set<int> values = values_at(obj, address, reg, unknown);
    m_numbers.insert(values.begin(), values.end());
    if (unknown || values.empty()) {
      ++obj.unknown_sites;
    }
  }

  // True if `address` in object `index` is libc's syscall(), or a PLT stub jumping to it.
  bool is_syscall_function(size_t index, uint64_t address) const {
    const Object& obj = m_objects[index];
    auto it = obj.exports.find("syscall");
    if (it != obj.exports.end() && it->second == address) {
      return true;
    }
    // A PLT stub: (endbr64,) jmp [rip + GOT slot of syscall], within its first 16 bytes.
    auto e = std::lower_bound(obj.events.begin(), obj.events.end(), address,
                              [](const Event& ev, uint64_t a) { return ev.address < a; });
    for (; e != obj.events.end() && e->address < address + 16; ++e) {
      if (e->kind == Event::Kind::slot) {
        auto reloc = obj.relocs.find(e->target);
        return reloc != obj.relocs.end() && reloc->second.symbol == "syscall";
      }
    }
    return false;
  }

  void visit(size_t index, size_t chunk) {
    Object& obj = m_objects[index];
    uint64_t begin = obj.chunks[chunk];
    uint64_t end = chunk + 1 < obj.chunks.size() ? obj.chunks[chunk + 1] : UINT64_MAX;
    auto code = std::find_if(obj.code.begin(), obj.code.end(),
                             [&](const CodeRange& r) { return begin >= r.begin && begin < r.end; });
    bool section_ends = code != obj.code.end() && end >= code->end;
    end = std::min(end, code != obj.code.end() ? code->end : end);

    auto first = std::lower_bound(obj.events.begin(), obj.events.end(), begin,
                                  [](const Event& e, uint64_t a) { return e.address < a; });
    for (auto e = first; e != obj.events.end() && e->address < end; ++e) {
      switch (e->kind) {
      case Event::Kind::syscall:
        site(obj, e->address, rax);
        break;
      case Event::Kind::edge:
        if (e->call && is_syscall_function(index, e->target)) {
          site(obj, e->address, rdi);
        }
        enqueue(index, obj.chunk_of(e->target));
        break;
      case Event::Kind::slot: {
        auto reloc = obj.relocs.find(e->target);
        if (reloc == obj.relocs.end()) {
          break;
        }
        if (!reloc->second.symbol.empty()) {
          if (e->call && reloc->second.symbol == "syscall") {
            site(obj, e->address, rdi);
          }
          enqueue_symbol(reloc->second.symbol);
        }
        enqueue(index, obj.chunk_of(reloc->second.addend));
        break;
      }
      }
    }
    // Fall-through into the next chunk unless the last real instruction ends the flow.
    if (!section_ends && chunk + 1 < obj.chunks.size()) {
      auto last = std::lower_bound(obj.insn_addresses.begin(), obj.insn_addresses.end(), end);
      Flow flow = Flow::padding;
      while (last != obj.insn_addresses.begin() && flow == Flow::padding) {
        --last;
        if (*last < begin) {
          break;
        }
        flow = obj.insn_flow[static_cast<size_t>(last - obj.insn_addresses.begin())];
      }
      if (flow == Flow::normal) {
        enqueue(index, static_cast<int>(chunk + 1));
      }
    }
  }

  std::vector<Object> m_objects;
  std::unordered_map<std::string, std::pair<size_t, uint64_t>> m_exports;
  std::deque<std::pair<size_t, int>> m_queue;
  std::set<int> m_numbers;
};

} // namespace

util::Result<StaticAnalysis> analyze_static(const std::filesystem::path& binary,
                                            const std::vector<std::string>& loaded) {
  Clock::time_point start = Clock::now();
  if (elf_version(EV_CURRENT) == EV_NONE) {
    return util::error("libelf: version mismatch");
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(binary, ec)) {
    return util::error(fmt::format("static analysis: '{}' is not a file", binary.string()));
  }
  StaticAnalysis out;
  out.binary = std::filesystem::canonical(binary, ec).string();
  std::vector<Object> objects;
  TRY_ASSIGN(Object main, read_object(out.binary, "binary"));
  objects.push_back(std::move(main));
  std::set<std::string> seen{out.binary};
  if (!objects.front().interpreter.empty()) {
    std::filesystem::path interp = std::filesystem::canonical(objects.front().interpreter, ec);
    if (!ec && seen.insert(interp.string()).second) {
      TRY_ASSIGN(Object loader, read_object(interp, "interpreter"));
      objects.push_back(std::move(loader));
    }
  }
  // Breadth-first, as the loader orders the global scope: what objects[from..] need.
  auto add_needed = [&](size_t from) -> util::Result<void> {
    for (size_t i = from; i < objects.size(); ++i) {
      std::vector<std::string> needed = objects[i].needed;
      for (const std::string& name : needed) {
        std::optional<std::filesystem::path> found =
            find_library(name, objects[i], objects.front());
        if (!found) {
          if (std::find(out.missing_libraries.begin(), out.missing_libraries.end(), name) ==
              out.missing_libraries.end()) {
            out.missing_libraries.push_back(name);
          }
          continue;
        }
        std::string canonical = std::filesystem::canonical(*found, ec).string();
        if (ec || !seen.insert(canonical).second) {
          continue;
        }
        TRY_ASSIGN(Object library, read_object(canonical, "library"));
        objects.push_back(std::move(library));
      }
    }
    return {};
  };
  TRY(add_needed(0));
  // Then the libraries opened at run time, and what they need.
  size_t first_loaded = objects.size();
  for (const std::string& path : loaded) {
    std::string canonical = std::filesystem::canonical(path, ec).string();
    if (ec || !is_x86_64_elf(canonical) || !seen.insert(canonical).second) {
      continue;
    }
    TRY_ASSIGN(Object library, read_object(canonical, "loaded"));
    // dlsym() may reach any of its functions (all of them are chunk starts already).
    for (const auto& [name, address] : library.exports) {
      library.roots.push_back(address);
    }
    objects.push_back(std::move(library));
  }
  TRY(add_needed(first_loaded));
  // The interpreter comes last in symbol resolution (it only exports the loader's functions).
  std::stable_partition(objects.begin(), objects.end(),
                        [](const Object& o) { return o.role != "interpreter"; });

  Program program(std::move(objects));
  std::set<int> numbers = program.walk();
  for (int nr : numbers) {
    out.syscalls.push_back(nr);
  }
  for (const Object& obj : program.objects()) {
    out.objects.push_back(
        {obj.path, obj.role, obj.insn_addresses.size(), obj.syscall_sites, obj.unknown_sites});
  }
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return out;
}

void to_json(nlohmann::json& j, const StaticAnalysis& a) {
  nlohmann::json syscalls = nlohmann::json::array();
  for (int nr : a.syscalls) {
    syscalls.push_back({{"nr", nr}, {"name", core::SyscallTable::get().name(nr)}});
  }
  nlohmann::json objects = nlohmann::json::array();
  for (const StaticObject& o : a.objects) {
    objects.push_back({{"path", o.path},
                       {"role", o.role},
                       {"instructions", o.instructions},
                       {"syscall_sites", o.syscall_sites},
                       {"unknown_sites", o.unknown_sites}});
  }
  j = {{"format", "lupa-static-1"},
       {"binary", a.binary},
       {"syscalls", std::move(syscalls)},
       {"objects", std::move(objects)},
       {"missing_libraries", a.missing_libraries},
       {"seconds", a.seconds}};
}

void from_json(const nlohmann::json& j, StaticAnalysis& a) {
  a = StaticAnalysis{};
  a.binary = j.at("binary").get<std::string>();
  for (const nlohmann::json& s : j.at("syscalls")) {
    a.syscalls.push_back(s.at("nr").get<int>());
  }
  for (const nlohmann::json& o : j.value("objects", nlohmann::json::array())) {
    a.objects.push_back(
        {o.at("path").get<std::string>(), o.value("role", ""), o.value("instructions", uint64_t{0}),
         o.value("syscall_sites", uint64_t{0}), o.value("unknown_sites", uint64_t{0})});
  }
  a.missing_libraries = j.value("missing_libraries", std::vector<std::string>{});
  a.seconds = j.value("seconds", 0.0);
}

} // namespace explorer
