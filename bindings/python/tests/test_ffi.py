"""The ctypes layer: discovery, version check, declarations, header coverage,
and struct layouts / defaults / constants compared with a C program compiled
against include/custscore.h at test time."""

import ctypes
import os
import re
import shutil
import subprocess
import sys

import pytest

import custscore
from custscore import _ffi
from conftest import BINDINGS, HEADER, c_compiler

# ---------------------------------------------------------------------------
# The header's declarations


def header_functions():
    text = HEADER.read_text(encoding="utf-8")
    return re.findall(r"CUSTSCORE_API\b[^;{]*?\b(custscore_\w+)\s*\(", text, re.S)


def header_structs():
    text = HEADER.read_text(encoding="utf-8")
    return set(re.findall(r"typedef\s+struct\s+(custscore_\w+)\s*\{", text))


def test_every_header_function_has_a_binding():
    declared = set(_ffi.DECLARED)
    missing = [name for name in header_functions() if name not in declared]
    assert not missing, "functions of custscore.h without a binding in _ffi.FUNCTIONS: %s" % (
        ", ".join(missing))


def test_no_binding_without_a_header_function():
    extra = set(_ffi.DECLARED) - set(header_functions())
    assert not extra, "bindings of functions no longer in custscore.h: %s" % ", ".join(
        sorted(extra))


def test_each_function_declared_once():
    assert len(_ffi.DECLARED) == len(set(_ffi.DECLARED))


def test_every_header_struct_is_mirrored():
    mirrored = {cls._c_name_ for cls in _ffi.STRUCTS}
    missing = header_structs() - mirrored
    assert not missing, "structs of custscore.h without a ctypes mirror: %s" % ", ".join(
        sorted(missing))


def header_struct_fields():
    """{struct name: [field names in order]} parsed from the header."""
    text = HEADER.read_text(encoding="utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    out = {}
    for name, body in re.findall(r"typedef\s+struct\s+(custscore_\w+)\s*\{(.*?)\}\s*\1\s*;",
                                 text, re.S):
        fields = []
        for decl in body.split(";"):
            decl = " ".join(decl.split())
            if not decl:
                continue
            for part in decl.split(","):
                m = re.search(r"(\w+)\s*(\[[^\]]*\]\s*)*$", part.strip())
                fields.append(m.group(1))
        out[name] = fields
    return out


def test_struct_fields_match_the_header():
    """Same field names in the same order as the header (catches a field
    added into padding, which sizeof would not)."""
    header = header_struct_fields()
    problems = []
    for cls in _ffi.STRUCTS:
        if cls._c_name_ in header:
            mine = [name for name, _ in cls._fields_]
            if mine != header[cls._c_name_]:
                problems.append("%s: header %s, ctypes %s" % (cls._c_name_,
                                                               header[cls._c_name_], mine))
    assert not problems, "\n".join(problems)


def test_every_binding_is_used_by_the_python_api():
    """Each C function is reached by some public Python function (not only
    declared): its name appears in the package outside _ffi.py."""
    sources = "".join(p.read_text(encoding="utf-8")
                      for p in (BINDINGS / "custscore").glob("*.py") if p.name != "_ffi.py")
    unused = [name for name in _ffi.DECLARED if "lib." + name not in sources]
    assert not unused, "declared but not wrapped: %s" % ", ".join(unused)


def test_declarations_have_types_and_errcheck():
    for name in _ffi.DECLARED:
        if not _ffi.available(name):
            continue
        func = getattr(_ffi.lib, name)
        func = getattr(func, "_cfunc", func)
        assert func.argtypes is not None, name
        assert func.errcheck is not None, name
        # Typed pointers: a void * only as the payload after a callback.
        for k, argtype in enumerate(func.argtypes):
            if argtype is ctypes.c_void_p:
                previous = func.argtypes[k - 1] if k else None
                assert previous is not None and issubclass(previous, ctypes._CFuncPtr), \
                    (name, k)


def test_handle_is_a_typed_pointer():
    assert issubclass(_ffi.Handle, ctypes.Structure)
    func = _ffi.lib.custscore_close
    func = getattr(func, "_cfunc", func)
    assert func.argtypes == [_ffi.HandleP]


def test_missing_function_raises_unavailable():
    stub = _ffi._missing("custscore_not_there")
    with pytest.raises(custscore.Unavailable) as info:
        stub()
    assert "custscore_not_there" in str(info.value)
    assert isinstance(info.value, NotImplementedError)


def test_version():
    assert custscore.library_version() == "%d.%d.%d" % _ffi.WRITTEN_FOR[:3] or \
        custscore.library_version_number() // 10000 == _ffi.WRITTEN_FOR_MAJOR
    number = custscore.library_version_number()
    major, minor, patch = (int(p) for p in custscore.library_version().split("."))
    assert number == major * 10000 + minor * 100 + patch
    text = HEADER.read_text(encoding="utf-8")
    header_major = int(re.search(r"#define\s+CUSTSCORE_VERSION_MAJOR\s+(\d+)", text).group(1))
    assert header_major == _ffi.WRITTEN_FOR_MAJOR


# ---------------------------------------------------------------------------
# Layouts, defaults and constants against C

_ENUM_TABLES = {
    "UNIT": "CUSTSCORE_UNIT_", "KIND": "CUSTSCORE_KIND_", "ZERO_REVENUE": "CUSTSCORE_ZERO_REVENUE_",
    "TIES": "CUSTSCORE_TIES_", "FREQUENCY_BASIS": "CUSTSCORE_FREQUENCY_",
    "MONETARY_BASIS": "CUSTSCORE_MONETARY_", "TIER_MODE": "CUSTSCORE_TIERS_",
    "LIFECYCLE": "CUSTSCORE_LIFECYCLE_", "MODEL": "CUSTSCORE_MODEL_", "FIT_STATUS": "CUSTSCORE_FIT_",
    "PLS_SCHEME": "CUSTSCORE_PLS_", "PLS_MODE": "CUSTSCORE_PLS_", "PLS_SCALING": "CUSTSCORE_PLS_",
    "PLS_MISSING": "CUSTSCORE_PLS_", "CSI_BY": "CUSTSCORE_CSI_BY_", "CSI_STATUS": "CUSTSCORE_CSI_",
    "SERVQUAL": "CUSTSCORE_SERVQUAL_", "KANO": "CUSTSCORE_KANO_",
    "VALUE_QUADRANT": "CUSTSCORE_VQ_", "LOYALTY_QUADRANT": "CUSTSCORE_LQ_",
    "CHURN_METHOD": "CUSTSCORE_CHURN_",
}
_CONSTANTS = ["OPEN_READWRITE", "OPEN_READONLY", "OPEN_CREATE", "SCHEMA_VERSION", "MAX_KEY",
              "MAX_SURVEY_ITEMS", "MAX_SURVEY_CONSTRUCTS", "MAX_SURVEY_PATHS",
              "MAX_BINS", "MAX_TIERS", "MAX_SEGMENT_RULES", "MAX_PARAMS", "MODEL_NAME_SIZE",
              "SERVQUAL_DIMENSIONS", "KANO_CATEGORIES", "REASONS", "CHURN_REASONS",
              "CHURN_CALIBRATION_BINS"]
_DOUBLE_CONSTANTS = ["CHURN_BAND_MEDIUM", "CHURN_BAND_HIGH", "CHURN_REASON_MIN"]


def _scalar_fields(cls, prefix):
    """(C expression, ctypes type) of every scalar field, nested structs expanded."""
    for name, ftype in cls._fields_:
        expr = "%s.%s" % (prefix, name)
        if isinstance(ftype, type) and issubclass(ftype, ctypes.Structure):
            yield from _scalar_fields(ftype, expr)
        elif isinstance(ftype, type) and issubclass(ftype, ctypes.Array):
            continue
        else:
            yield expr, ftype


def _print_value(expr, ftype):
    if ftype is ctypes.c_double:
        return 'printf("%s %%a\\n", %s);' % (expr, expr)
    if ftype in (ctypes.c_int, ctypes.c_uint, ctypes.c_int64, ctypes.c_uint64, ctypes.c_size_t,
                 ctypes.c_char):
        return 'printf("%s %%lld\\n", (long long)%s);' % (expr, expr)
    return 'printf("%s %%d\\n", %s != NULL);' % (expr, expr)


def _c_program():
    out = ["#include <custscore.h>", "#include <math.h>", "#include <stddef.h>",
           "#include <stdio.h>",
           "int main(void) {"]
    for cls in _ffi.STRUCTS:
        c = cls._c_name_
        if not cls._fields_:
            continue
        out.append('printf("%s sizeof %%zu\\n", sizeof(%s));' % (c, c))
        out.append('printf("%s alignof %%zu\\n", _Alignof(%s));' % (c, c))
        for name, _ in cls._fields_:
            out.append('printf("%s.%s offsetof %%zu\\n", offsetof(%s, %s));' % (c, name, c, name))
            out.append('printf("%s.%s sizeof %%zu\\n", sizeof(((%s *)0)->%s));'
                       % (c, name, c, name))
        if getattr(cls, "_defaults_", None) is not None:
            macro = c.upper() + "_INIT"
            out.append("{ %s v = %s;" % (c, macro))
            for expr, ftype in _scalar_fields(cls, "v"):
                out.append(_print_value(expr, ftype).replace('"v.', '"%s.' % c, 1))
            out.append("}")
    for table, prefix in _ENUM_TABLES.items():
        for name in getattr(_ffi, table):
            cname = prefix + name.upper()
            out.append('printf("%s %%d\\n", (int)%s);' % (cname, cname))
    for name, code in custscore.errors.CODES.items():
        out.append('printf("%s %%d\\n", (int)%s);' % (name, name))
    for name in _CONSTANTS:
        out.append('printf("CUSTSCORE_%s %%d\\n", (int)CUSTSCORE_%s);' % (name, name))
    for name in dir(_ffi):
        if name.endswith("_OPTIONS_VERSION"):
            out.append('printf("CUSTSCORE_%s %%d\\n", (int)CUSTSCORE_%s);' % (name, name))
    for name in _DOUBLE_CONSTANTS:
        out.append('printf("CUSTSCORE_%s %%a\\n", (double)CUSTSCORE_%s);' % (name, name))
    out.append('printf("CUSTSCORE_SEGMENT_OTHERS %s\\n", CUSTSCORE_SEGMENT_OTHERS);')
    out.append("return 0; }")
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def c_facts(tmp_path_factory):
    cc = c_compiler()
    if not cc:
        pytest.skip("no C compiler")
    work = tmp_path_factory.mktemp("layout")
    src = work / "layout.c"
    exe = work / "layout"
    src.write_text(_c_program())
    result = subprocess.run([cc, "-std=c11", "-I", str(HEADER.parent), "-o", str(exe), str(src)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    facts = {}
    for line in subprocess.run([str(exe)], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        k, _, v = line.rpartition(" ")
        facts[k] = v
    return facts


def test_struct_layouts_match_c(c_facts):
    problems = []
    for cls in _ffi.STRUCTS:
        c = cls._c_name_
        if not cls._fields_:
            continue
        if int(c_facts["%s sizeof" % c]) != ctypes.sizeof(cls):
            problems.append("%s: sizeof C %s, ctypes %d" % (c, c_facts["%s sizeof" % c],
                                                           ctypes.sizeof(cls)))
        if int(c_facts["%s alignof" % c]) != ctypes.alignment(cls):
            problems.append("%s: alignment differs" % c)
        for name, _ in cls._fields_:
            field = getattr(cls, name)
            c_off = int(c_facts["%s.%s offsetof" % (c, name)])
            c_size = int(c_facts["%s.%s sizeof" % (c, name)])
            if (c_off, c_size) != (field.offset, field.size):
                problems.append("%s.%s: C offset %d size %d, ctypes %d %d"
                                % (c, name, c_off, c_size, field.offset, field.size))
    assert not problems, "\n".join(problems)


def test_option_defaults_match_init_macros(c_facts):
    problems = []
    for cls in _ffi.STRUCTS:
        if getattr(cls, "_defaults_", None) is None:
            continue
        value = cls()
        for expr, ftype in _scalar_fields(cls, cls._c_name_):
            obj = value
            for part in expr.split(".")[1:]:
                obj = getattr(obj, part)
            c_text = c_facts[expr]
            if ftype is ctypes.c_double:
                c_value = float.fromhex(c_text)
                ok = c_value == obj or (c_value != c_value and obj != obj)
            elif ftype is ctypes.c_char:
                ok = int(c_text) == (obj[0] if obj else 0)
            elif ftype in (ctypes.c_int, ctypes.c_uint, ctypes.c_int64, ctypes.c_uint64,
                           ctypes.c_size_t):
                ok = int(c_text) == obj
            else:
                ok = int(c_text) == (1 if obj else 0)
            if not ok:
                problems.append("%s: C %s, Python %r" % (expr, c_text, obj))
    assert not problems, "\n".join(problems)


def test_constants_and_enums_match_c(c_facts):
    problems = []
    for table, prefix in _ENUM_TABLES.items():
        for name, value in getattr(_ffi, table).items():
            cname = prefix + name.upper()
            if int(c_facts[cname]) != value:
                problems.append("%s: C %s, Python %d" % (cname, c_facts[cname], value))
    for name, value in custscore.errors.CODES.items():
        if int(c_facts[name]) != value:
            problems.append(name)
    for name in _CONSTANTS:
        if int(c_facts["CUSTSCORE_" + name]) != getattr(_ffi, name):
            problems.append(name)
    for name in dir(_ffi):
        if name.endswith("_OPTIONS_VERSION"):
            if int(c_facts["CUSTSCORE_" + name]) != getattr(_ffi, name):
                problems.append(name)
    for name in _DOUBLE_CONSTANTS:
        if float.fromhex(c_facts["CUSTSCORE_" + name]) != getattr(_ffi, name):
            problems.append(name)
    assert c_facts["CUSTSCORE_SEGMENT_OTHERS"] == _ffi.SEGMENT_OTHERS
    assert not problems, problems


def test_every_error_code_has_a_class():
    for name, code in custscore.errors.CODES.items():
        if code:
            cls = custscore.errors.error_class(code)
            assert cls is not custscore.Error and cls.c_code == code, name
            assert custscore.errstr(code)  # the library has a text for it
    assert custscore.errors.error_class(-999) is custscore.Error


# ---------------------------------------------------------------------------
# Discovery (in subprocesses, with a controlled environment)


def _run_import(env_changes, cwd=None, code="import custscore; print(custscore.LIBRARY_PATH)",
                pythonpath=None):
    env = dict(os.environ)
    env.pop("CUSTSCORE_LIBRARY", None)
    env.update(env_changes)
    env["PYTHONPATH"] = str(pythonpath or BINDINGS)
    env["CUSTSCORE_PY_NO_CALL_COUNT"] = "1"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=cwd or "/")


def test_discovery_env_variable_first():
    result = _run_import({"CUSTSCORE_LIBRARY": _ffi.LIBRARY_PATH})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == _ffi.LIBRARY_PATH


def test_discovery_bad_env_path_is_an_import_error_listing_what_was_tried():
    result = _run_import({"CUSTSCORE_LIBRARY": "/nonexistent/libcustscore.so.0"})
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "/nonexistent/libcustscore.so.0" in result.stderr
    assert "tried" in result.stderr


def test_discovery_next_to_the_package(tmp_path):
    package = tmp_path / "custscore"
    shutil.copytree(BINDINGS / "custscore", package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
    shutil.copy(_ffi.LIBRARY_PATH, package / "libcustscore.so.0")
    result = _run_import({}, pythonpath=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(package / "libcustscore.so.0")


def test_discovery_system_library(tmp_path):
    """Without the variable or a local copy, ctypes.util.find_library is
    asked; with the build directory on LD_LIBRARY_PATH it finds the build."""
    libdir = os.path.dirname(_ffi.LIBRARY_PATH)
    result = _run_import({"LD_LIBRARY_PATH": libdir, "LIBRARY_PATH": libdir},
                         code="import ctypes.util; print(ctypes.util.find_library('custscore'))")
    if result.stdout.strip() in ("", "None"):
        pytest.skip("ctypes.util.find_library cannot see the build directory here")
    result = _run_import({"LD_LIBRARY_PATH": libdir, "LIBRARY_PATH": libdir})
    assert result.returncode == 0, result.stderr
    assert "libcustscore" in result.stdout


def test_discovery_failure_lists_every_place(tmp_path):
    package = tmp_path / "custscore"
    shutil.copytree(BINDINGS / "custscore", package,
                    ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
    # Hide the system library from find_library by making it look elsewhere.
    code = ("import ctypes.util; ctypes.util.find_library = lambda name: None\n"
            "import custscore")
    result = _run_import({}, pythonpath=tmp_path, code=code)
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "CUSTSCORE_LIBRARY" in result.stderr
    assert "next to the package" in result.stderr
    assert "find_library" in result.stderr


def test_major_version_mismatch_is_an_import_error(tmp_path):
    cc = c_compiler()
    if not cc:
        pytest.skip("no C compiler")
    src = tmp_path / "fake.c"
    src.write_text(
        '#include <stddef.h>\n'
        'const char *custscore_version(void) { return "7.0.0"; }\n'
        'int custscore_version_number(void) { return 70000; }\n'
        'const char *custscore_errstr(int c) { (void)c; return "x"; }\n'
        'const char *custscore_errmsg(const void *d) { (void)d; return ""; }\n'
        'int custscore_close(void *d) { (void)d; return 0; }\n')
    lib = tmp_path / "libfake.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    result = _run_import({"CUSTSCORE_LIBRARY": str(lib)})
    assert result.returncode != 0
    assert "written for libcustscore 0.x" in result.stderr and "7.0.0" in result.stderr
