#!/usr/bin/env python3
"""What the native tools say about executables, as JSON, for ExecutableModuleTests.

Usage: /usr/bin/python3 executable_expected.py FILE...  (Debian's python3: pefile is python3-pefile)
       /usr/bin/python3 executable_expected.py --make DIR  (fills DIR with the samples, see make_samples)

Per file, by its magic:
- PE: pefile (header fields, imphash, sections with their entropy, imports by name and ordinal,
  exports, the overlay's start and SHA-256, the resources of interest the module emits);
- ELF: `readelf -W -h -S --dyn-syms -V -n` (header, sections, dynamic symbols with the library of
  their version need, GNU build id);
- Mach-O: `llvm-objdump --macho --private-header`, `llvm-readobj --sections`, `llvm-nm -P`.
The expectations are computed by those tools only; nothing is copied from the module.
"""
import hashlib, json, math, re, shutil, subprocess, sys
from collections import Counter


def entropy(data):
    if not data:
        return 0.0
    h = 0.0
    for n in Counter(data).values():
        p = n / len(data)
        h -= p * math.log(p, 2)
    return h


def text(b):
    return b.decode("utf-8", "backslashreplace").replace("\\x", "\\x") if isinstance(b, bytes) else b


INTERESTING = [b"MZ", b"\x7fELF", b"PK\x03\x04", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"\x1f\x8b", b"MSCF", b"BZh",
               b"\xfd7zXZ", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"%PDF", b"\x28\xb5\x2f\xfd"]


def pe_expected(path):
    import pefile
    pe = pefile.PE(path)
    data = pe.__data__
    oh, fh = pe.OPTIONAL_HEADER, pe.FILE_HEADER
    security = oh.DATA_DIRECTORY[4]
    pdb = None
    for d in getattr(pe, "DIRECTORY_ENTRY_DEBUG", []):
        name = getattr(d.entry, "PdbFileName", None) if d.entry else None
        if name is not None:
            pdb = text(name.split(b"\0")[0])
            break
    overlay = pe.get_overlay_data_start_offset()
    imphash = pe.get_imphash()
    out = {
        "format": "PE", "machine": pefile.MACHINE_TYPE.get(fh.Machine, hex(fh.Machine)),
        "bits": 64 if oh.Magic == 0x20B else 32, "endian": "little", "kind": "DLL" if pe.is_dll() else "EXE",
        "entry_point": oh.AddressOfEntryPoint, "image_base": oh.ImageBase, "timestamp": fh.TimeDateStamp,
        "subsystem": pefile.SUBSYSTEM_TYPE.get(oh.Subsystem, str(oh.Subsystem)), "imphash": imphash or None,
        "is_signed": int(security.VirtualAddress != 0 and security.Size >= 8 and security.VirtualAddress + security.Size <= len(data)),
        "pdb_path": pdb, "build_id": None,
        "overlay_offset": overlay, "overlay_size": None if overlay is None else len(data) - overlay,
        "sections": [[text(s.Name.split(b"\0")[0]), s.VirtualAddress, s.Misc_VirtualSize, s.PointerToRawData, s.SizeOfRawData,
                      s.get_entropy(), s.Characteristics] for s in pe.sections],
        "imports": [[text(e.dll), text(i.name) if i.name else None, i.ordinal if i.import_by_ordinal else None]
                    for e in getattr(pe, "DIRECTORY_ENTRY_IMPORT", []) for i in e.imports],
        "exports": [[text(s.name) if s.name else None, s.ordinal, s.address]
                    for s in (pe.DIRECTORY_ENTRY_EXPORT.symbols if hasattr(pe, "DIRECTORY_ENTRY_EXPORT") else [])],
        "children": {},
    }
    if overlay is not None:
        out["children"]["overlay"] = hashlib.sha256(pe.get_overlay()).hexdigest()

    def label(entry, top=False):
        if entry.name is not None:
            s = str(entry.name).replace("/", "_").replace("\0", "_")
            return s or "_"
        if top and pefile.RESOURCE_TYPE.get(entry.id):
            return pefile.RESOURCE_TYPE[entry.id]
        return str(entry.id)

    for t in getattr(getattr(pe, "DIRECTORY_ENTRY_RESOURCE", None), "entries", []):
        if not hasattr(t, "directory"):
            continue
        for n in t.directory.entries:
            if not hasattr(n, "directory"):
                continue
            for lang in n.directory.entries:
                if not hasattr(lang, "data"):
                    continue
                rva, size = lang.data.struct.OffsetToData, lang.data.struct.Size
                off = pe.get_offset_from_rva(rva)
                blob = data[off:off + size]
                if size == 0 or len(blob) != size:
                    continue
                if label(t, True) != "RT_MANIFEST" and not any(blob.startswith(m) for m in INTERESTING):
                    continue
                out["children"][f"resources/{label(t, True)}/{label(n)}/{label(lang)}"] = hashlib.sha256(blob).hexdigest()
    return out


SECTION_FLAGS = {"W": 0x1, "A": 0x2, "X": 0x4, "M": 0x10, "S": 0x20, "I": 0x40, "L": 0x80, "O": 0x100, "G": 0x200, "T": 0x400, "C": 0x800, "E": 0x80000000}


def elf_expected(path):
    run = subprocess.run(["readelf", "-W", "-h", "-S", "--dyn-syms", "-V", "-n", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    lines = run.stdout.decode("utf-8", "backslashreplace").splitlines()
    header = {}
    for line in lines:
        m = re.match(r"\s+([A-Za-z' ]+):\s+(.*)$", line)
        if m and m.group(1) not in header:
            header[m.group(1).strip()] = m.group(2).strip()
    data = open(path, "rb").read()
    sections, imports, exports = [], [], []
    section_re = re.compile(r"^\s*\[\s*(\d+)\]\s+(\S*)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([A-Za-z]*)\s+(\d+)\s+(\d+)\s+(\d+)\s*$")
    symbol_re = re.compile(r"^\s*(\d+):\s+([0-9a-f]+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$")
    in_dynsym = False
    build_id = None
    # -V's version needs: version index -> the file that defines it (an import's library).
    needs, current = {}, None
    for line in lines:
        m = re.search(r"Version: \d+\s+File: (\S+)\s+Cnt:", line)
        if m:
            current = m.group(1)
        m = re.search(r"Name: \S+\s+Flags: .*Version: (\d+)$", line)
        if m and current:
            needs[int(m.group(1))] = current
    for line in lines:
        m = section_re.match(line)
        if m and int(m.group(1)) > 0 and not in_dynsym:
            name, kind, addr, off, size = m.group(2), m.group(3), int(m.group(4), 16), int(m.group(5), 16), int(m.group(6), 16)
            nobits = kind == "NOBITS"
            letters = set(m.group(8)) & set(SECTION_FLAGS)
            sections.append([name, addr, size, off, 0 if nobits else size,
                             None if nobits or size == 0 else entropy(data[off:off + size]), sorted(letters)])
            continue
        if line.startswith("Symbol table '.dynsym'"):
            in_dynsym = True
            continue
        if in_dynsym:
            m = symbol_re.match(line)
            if m and int(m.group(1)) > 0:
                index = re.search(r" \((\d+)\)$", m.group(8))
                name = m.group(8).split(" (")[0]
                name = re.sub(r"@.*$", "", name)
                if not name:
                    continue
                if m.group(7) == "UND":
                    imports.append([needs.get(int(index.group(1))) if index else None, name])
                elif m.group(5) in ("GLOBAL", "WEAK", "UNIQUE"):
                    exports.append([name, int(m.group(2), 16)])
            elif line.strip() == "" and imports + exports:
                in_dynsym = False
        m = re.search(r"\sBuild ID: ([0-9a-f]+)", line)
        if m and build_id is None:
            build_id = m.group(1)
    kind = header.get("Type", "").split(" ")[0]
    return {
        "format": "ELF", "machine": header.get("Machine"), "bits": 64 if header.get("Class") == "ELF64" else 32,
        "endian": "big" if "big endian" in header.get("Data", "") else "little", "kind": kind,
        "entry_point": int(header.get("Entry point address", "0"), 16), "build_id": build_id,
        "sections": sections, "imports": imports, "exports": sorted(exports),
    }


def macho_expected(path):
    head = subprocess.run(["llvm-objdump", "--macho", "--private-header", path], stdout=subprocess.PIPE, check=True).stdout.decode().split("\n")
    fields = head[2].split()
    sections = []
    current = {}
    for line in subprocess.run(["llvm-readobj", "--sections", path], stdout=subprocess.PIPE, check=True).stdout.decode().splitlines():
        m = re.match(r"\s+(Name|Segment|Address|Size|Offset|Type): (\S+)(?: \((0x[0-9a-fA-F]+)\))?", line)
        if m:
            current[m.group(1)] = m.group(2) if m.group(1) != "Type" else m.group(3)
        if re.match(r"\s+Attributes \[ \((0x[0-9a-fA-F]+)\)", line):
            current["Attributes"] = int(re.match(r"\s+Attributes \[ \((0x[0-9a-fA-F]+)\)", line).group(1), 16)
        if line.strip() == "}" and "Name" in current:
            zerofill = int(current["Type"], 16) in (0x1, 0xC, 0x12)
            size = int(current["Size"], 16)
            off = int(current["Offset"])
            sections.append([f"{current['Segment']},{current['Name']}", int(current["Address"], 16), size, off,
                             0 if zerofill else size, int(current["Attributes"]) << 8 | int(current["Type"], 16)])
            current = {}
    imports, exports = [], []
    for line in subprocess.run(["llvm-nm", "-P", "--extern-only", path], stdout=subprocess.PIPE, check=True).stdout.decode().splitlines():
        parts = line.split()
        if parts[1] == "U":
            imports.append(parts[0])
        else:
            exports.append([parts[0], int(parts[2], 16) if len(parts) > 2 else 0])
    return {"format": "Mach-O", "machine": fields[1], "bits": 64 if fields[0] == "MH_MAGIC_64" else 32, "kind": fields[4],
            "sections": sections, "imports": sorted(imports), "exports": sorted(exports)}


def canonical(values):
    """One row as the test compares it: values joined by '|', NULL for none, floats to 9 places."""
    return "|".join("NULL" if v is None else f"{v:.9f}" if isinstance(v, float) else str(v) for v in values)


ELF_FLAG_MASK = sum(SECTION_FLAGS.values())
ROW = ["format", "machine", "bits", "endian", "kind", "entry_point", "image_base", "timestamp", "subsystem", "imphash",
       "is_signed", "pdb_path", "build_id", "overlay_offset", "overlay_size"]


def run(command, cwd):
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_samples(folder):
    """The machine's Windows PE files (pip's/distlib's and setuptools' launchers, distutils' installers:
    one per SHA-256, those pefile reads), a sample of its ELF programs and libraries, and files made
    here: relocatable ELF objects of seven other architectures (clang), x64/ARM64 PE files importing
    by ordinal and DLLs exporting by name, by ordinal only and by forwarder (clang, llvm-dlltool,
    lld-link), a launcher with data appended (an overlay), Mach-O objects and a fat file (llvm-lipo)."""
    import os, pefile
    os.makedirs(folder, exist_ok=True)
    seen = set()
    pe_files = []
    for root in ("/root/.pyenv", "/usr/lib", "/usr/local/lib", "/usr/share", "/opt", "/home"):
        for d, _, names in os.walk(root):
            for n in names:
                if n.lower().endswith((".exe", ".dll")) and len(pe_files) < 64:
                    path = os.path.join(d, n)
                    try:
                        blob = open(path, "rb").read()
                        pefile.PE(data=blob, fast_load=True)
                    except Exception:
                        continue
                    digest = hashlib.sha256(blob).hexdigest()
                    if digest not in seen:
                        seen.add(digest)
                        pe_files.append((n, blob))
    for i, (n, blob) in enumerate(pe_files):
        open(os.path.join(folder, f"pe{i:02d}-{n}"), "wb").write(blob)
    if pe_files:
        open(os.path.join(folder, "overlay-" + pe_files[0][0]), "wb").write(pe_files[0][1] + b"#!python\n" + bytes(range(256)) * 9)
    libs = sorted(f for f in os.listdir("/usr/lib/x86_64-linux-gnu") if ".so" in f and os.path.isfile(os.path.join("/usr/lib/x86_64-linux-gnu", f)))
    elf = ["/bin/ls", "/usr/bin/git", "/usr/bin/curl", "/usr/bin/openssl", "/usr/bin/readelf"] + \
          [os.path.join("/usr/lib/x86_64-linux-gnu", f) for f in libs[::max(1, len(libs) // 12)][:12]]
    for path in elf:
        if os.path.exists(path):
            blob = open(os.path.realpath(path), "rb").read()
            if blob[:4] == b"\x7fELF" and hashlib.sha256(blob).hexdigest() not in seen:
                seen.add(hashlib.sha256(blob).hexdigest())
                open(os.path.join(folder, "elf-" + os.path.basename(path)), "wb").write(blob)
    work = os.path.join(folder, "..", "build")
    os.makedirs(work, exist_ok=True)
    open(os.path.join(work, "t.c"), "w").write("int g = 3; extern int puts(const char *); int f(void) { return puts(\"x\") + g; }\n")
    for target in ("aarch64-linux-gnu", "i386-linux-gnu", "armv7-linux-gnueabihf", "riscv64-linux-gnu", "powerpc64-linux-gnu",
                   "s390x-linux-gnu", "mips-linux-gnu", "x86_64-apple-macos", "arm64-apple-macos", "i386-apple-macos"):
        run(["clang", "-target", target, "-c", "t.c", "-o", os.path.join(os.path.abspath(folder), f"obj-{target}.o")], work)
    lipo = shutil.which("llvm-lipo") or shutil.which("llvm-lipo-14")
    run([lipo, "-create", os.path.abspath(os.path.join(folder, "obj-x86_64-apple-macos.o")),
         os.path.abspath(os.path.join(folder, "obj-arm64-apple-macos.o")), "-output", os.path.abspath(os.path.join(folder, "fat-macho.o"))], work)
    files = {
        "dll.c": "int alpha(void) { return 1; }\nint beta(void) { return 2; }\nint gamma_(void) { return 3; }\n",
        "sample.def": "LIBRARY sample.dll\nEXPORTS\n  alpha @1\n  beta @2\n  gamma_ @5 NONAME\n  ticks = KERNEL32.GetTickCount @7\n",
        "ws2_32.def": "LIBRARY ws2_32.dll\nEXPORTS\n  socket @23 NONAME\n  oddone @300 NONAME\n",
        "oleaut32.def": "LIBRARY OLEAUT32.dll\nEXPORTS\n  SysAllocString @2 NONAME\n",
        "mylib.def": "LIBRARY mylib.dll\nEXPORTS\n  foo @9 NONAME\n  bar\n",
        "kernel32.def": "LIBRARY KERNEL32.dll\nEXPORTS\n  GetTickCount\n",
        "exe.c": "__declspec(dllimport) int socket(int, int, int); __declspec(dllimport) int oddone(void);\n"
                 "__declspec(dllimport) void *SysAllocString(const void *); __declspec(dllimport) int foo(void);\n"
                 "__declspec(dllimport) int bar(void); __declspec(dllimport) unsigned GetTickCount(void);\n"
                 "int mainCRTStartup(void) { return socket(2, 1, 0) + oddone() + (int)(long long)SysAllocString(0) + foo() + bar() + (int)GetTickCount(); }\n",
    }
    for name, content in files.items():
        open(os.path.join(work, name), "w").write(content)
    for arch, dlltool, machine in (("x86_64", "i386:x86-64", "x64"), ("aarch64", "arm64", "arm64")):
        target = f"{arch}-pc-windows-msvc"
        run(["clang", "-target", target, "-O1", "-c", "dll.c", "-o", f"dll-{arch}.obj"], work)
        run(["clang", "-target", target, "-O1", "-c", "exe.c", "-o", f"exe-{arch}.obj"], work)
        for lib in ("ws2_32", "oleaut32", "mylib", "kernel32"):
            run(["llvm-dlltool", "-m", dlltool, "-d", f"{lib}.def", "-l", f"{lib}-{arch}.lib"], work)
        out = os.path.abspath(folder)
        run(["lld-link", f"/machine:{machine}", "/dll", "/noentry", "/nodefaultlib", "/def:sample.def", f"dll-{arch}.obj",
             f"/out:{out}/made-exports-{arch}.dll"], work)
        run(["lld-link", f"/machine:{machine}", "/entry:mainCRTStartup", "/subsystem:console", "/nodefaultlib", f"exe-{arch}.obj",
             f"ws2_32-{arch}.lib", f"oleaut32-{arch}.lib", f"mylib-{arch}.lib", f"kernel32-{arch}.lib", f"/out:{out}/made-ordinals-{arch}.exe"], work)
    for leftover in os.listdir(folder):
        if leftover.endswith((".lib", ".exp", ".pdb")):
            os.remove(os.path.join(folder, leftover))


def main():
    if sys.argv[1:2] == ["--make"]:
        make_samples(sys.argv[2])
        return
    out = {}
    for path in sys.argv[1:]:
        magic = open(path, "rb").read(4)
        if magic[:2] == b"MZ":
            e = pe_expected(path)
            sections = [canonical(s) for s in e["sections"]]
            imports = sorted(canonical(i) for i in e["imports"])
            exports = sorted(canonical(x) for x in e["exports"])
            children = sorted(f"{k}|{v}" for k, v in e["children"].items())
        elif magic == b"\x7fELF":
            e = elf_expected(path)
            sections = [canonical(s[:6] + [sum(SECTION_FLAGS[c] for c in s[6])]) for s in e["sections"]]
            imports = sorted(canonical([i[0], i[1], None]) for i in e["imports"])
            exports = sorted(canonical([x[0], None, x[1]]) for x in e["exports"])
            children = []
        elif magic in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"):
            # A fat Mach-O: one row, and each architecture's slice as a sub-content (llvm-lipo -thin).
            lipo = shutil.which("llvm-lipo") or shutil.which("llvm-lipo-14")
            archs = subprocess.run([lipo, "-archs", path], stdout=subprocess.PIPE, check=True).stdout.decode().split()
            children = []
            for arch in archs:
                thin = subprocess.run([lipo, "-thin", arch, path, "-output", "/dev/stdout"], stdout=subprocess.PIPE, check=True).stdout
                name = {"x86_64": "X86_64", "arm64": "ARM64", "i386": "I386", "arm64_32": "ARM64_32"}.get(arch, arch.upper())
                children.append(f"fat/{name}|{hashlib.sha256(thin).hexdigest()}")
            e = {"format": "Mach-O fat", "endian": "big", "kind": "FAT"}
            sections, imports, exports, children = [], [], [], sorted(children)
        else:
            e = macho_expected(path)
            data = open(path, "rb").read()
            sections = [canonical(s[:5] + [entropy(data[s[3]:s[3] + s[4]]) if s[4] else None, s[5]]) for s in e["sections"]]
            imports = sorted(canonical([None, i, None]) for i in e["imports"])
            exports = sorted(canonical([x[0], None, x[1]]) for x in e["exports"])
            children = []
            e.update({"endian": "little", "is_signed": 0})
        out[path] = {"executable": canonical([e.get(k) for k in ROW]), "sections": sections, "imports": imports,
                     "exports": exports, "children": children}
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
