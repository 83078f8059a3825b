/*
 * wadup_python.c: the reactor glue of WADUP's Python runtime (issue 24).
 *
 * CPython 3.11 compiled to wasm32-wasi (scripts/formats/python.sh) is linked with this file as a
 * WASI reactor. It exports:
 *   init()          start the interpreter (once per instance) and import the user's module
 *                   (/module/NAME.py); 0 ready, 1 declined, 2 error (logged at error level)
 *   process()       call NAME.process(content); 0 success, 1 an exception (logged)
 *   wadup_accepts() a pointer to a NUL-terminated JSON manifest made from NAME.ACCEPTS, or 0
 * and compiles in `_wadup`, a small extension module over the host functions of wadup.h. The
 * Python side (Guests/Python/wadup/) does the rest: the API, the checks, the error messages.
 *
 * Everything a host call receives is a pointer/length pair taken from a Python object that
 * stays alive during the call; lengths are checked to fit the ABI's unsigned 32-bit values.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wadup.h"

#define EXPORT(name) __attribute__((export_name(#name)))

/* ---------------------------------------------------------------- _wadup: the host calls -- */

/* A buffer argument's length as the ABI's u32 (always true on wasm32; checked anyway). */
static int u32_len(Py_ssize_t n, uint32_t *out) {
    if (n < 0 || (uint64_t)n > UINT32_MAX) { PyErr_SetString(PyExc_OverflowError, "length does not fit in 32 bits"); return -1; }
    *out = (uint32_t)n;
    return 0;
}

static PyObject *w_size(PyObject *self, PyObject *unused) {
    return PyLong_FromLongLong((long long)get_content_size64());
}

/* read(offset, n) -> bytes, or an int (the host's error code). */
static PyObject *w_read(PyObject *self, PyObject *args) {
    long long offset; Py_ssize_t n; uint32_t len;
    if (!PyArg_ParseTuple(args, "Ln", &offset, &n)) return NULL;
    if (offset < 0 || n < 0) { PyErr_SetString(PyExc_ValueError, "negative offset or length"); return NULL; }
    if (u32_len(n, &len) < 0) return NULL;
    PyObject *out = PyBytes_FromStringAndSize(NULL, n);
    if (!out) return NULL;
    int32_t rc = len ? read_content64((int64_t)offset, len, PyBytes_AS_STRING(out)) : 0;
    if (rc < 0) { Py_DECREF(out); return PyLong_FromLong(rc); }
    return out;
}

/* readinto(offset, writable buffer) -> 0 or the host's error code. */
static PyObject *w_readinto(PyObject *self, PyObject *args) {
    long long offset; Py_buffer b; uint32_t len; int32_t rc = 0;
    if (!PyArg_ParseTuple(args, "Lw*", &offset, &b)) return NULL;
    if (offset < 0) { PyBuffer_Release(&b); PyErr_SetString(PyExc_ValueError, "negative offset"); return NULL; }
    if (u32_len(b.len, &len) < 0) { PyBuffer_Release(&b); return NULL; }
    if (len) rc = read_content64((int64_t)offset, len, b.buf);
    PyBuffer_Release(&b);
    return PyLong_FromLong(rc);
}

static PyObject *w_uuid(PyObject *self, PyObject *unused) {
    unsigned char raw[16];
    int32_t rc = get_content_uuid(raw);
    if (rc < 0) return PyLong_FromLong(rc);
    return PyBytes_FromStringAndSize((const char *)raw, 16);
}

/* A host string of unknown length (filename, MIME type): the call returns the full length. */
static PyObject *host_string(int32_t (*get)(char *, uint32_t)) {
    char small[256];
    int32_t n = get(small, sizeof small);
    if (n < 0) return PyLong_FromLong(n);
    if ((uint32_t)n <= sizeof small) return PyBytes_FromStringAndSize(small, n);
    PyObject *out = PyBytes_FromStringAndSize(NULL, n);
    if (!out) return NULL;
    int32_t m = get(PyBytes_AS_STRING(out), (uint32_t)n);
    if (m < 0) { Py_DECREF(out); return PyLong_FromLong(m); }
    if (m != n) { Py_DECREF(out); PyErr_SetString(PyExc_RuntimeError, "the host string changed length"); return NULL; }
    return out;
}
static PyObject *w_filename(PyObject *self, PyObject *unused) { return host_string(get_content_filename); }
static PyObject *w_content_type(PyObject *self, PyObject *unused) { return host_string(get_content_type); }

static PyObject *w_define_table(PyObject *self, PyObject *args) {
    Py_buffer name, cols; uint32_t nl, cl; int32_t rc;
    if (!PyArg_ParseTuple(args, "y*y*", &name, &cols)) return NULL;
    if (u32_len(name.len, &nl) < 0 || u32_len(cols.len, &cl) < 0) { PyBuffer_Release(&name); PyBuffer_Release(&cols); return NULL; }
    rc = define_table(name.buf, nl, cols.buf, cl);
    PyBuffer_Release(&name); PyBuffer_Release(&cols);
    return PyLong_FromLong(rc);
}

static PyObject *w_insert_row(PyObject *self, PyObject *args) {
    int table; Py_buffer row; uint32_t rl; int32_t rc;
    if (!PyArg_ParseTuple(args, "iy*", &table, &row)) return NULL;
    if (u32_len(row.len, &rl) < 0) { PyBuffer_Release(&row); return NULL; }
    rc = insert_row(table, row.buf, rl);
    PyBuffer_Release(&row);
    return PyLong_FromLong(rc);
}

static PyObject *w_emit_bytes(PyObject *self, PyObject *args) {
    Py_buffer data, name; uint32_t dl, nl; int32_t rc;
    if (!PyArg_ParseTuple(args, "y*y*", &data, &name)) return NULL;
    if (u32_len(data.len, &dl) < 0 || u32_len(name.len, &nl) < 0) { PyBuffer_Release(&data); PyBuffer_Release(&name); return NULL; }
    rc = emit_subcontent_bytes(data.buf, dl, name.buf, nl);
    PyBuffer_Release(&data); PyBuffer_Release(&name);
    return PyLong_FromLong(rc);
}

static PyObject *w_emit_slice(PyObject *self, PyObject *args) {
    long long offset, length; Py_buffer name; uint32_t nl; int32_t rc;
    if (!PyArg_ParseTuple(args, "LLy*", &offset, &length, &name)) return NULL;
    if (u32_len(name.len, &nl) < 0) { PyBuffer_Release(&name); return NULL; }
    rc = emit_subcontent_slice64((int64_t)offset, (int64_t)length, name.buf, nl);
    PyBuffer_Release(&name);
    return PyLong_FromLong(rc);
}

/* emit_extents(packed, name): packed is extent_count records of 16 bytes ({i64 offset; i64 length}
 * little-endian, as wadup_extent); the Python side packs them with struct. */
static PyObject *w_emit_extents(PyObject *self, PyObject *args) {
    Py_buffer ext, name; uint32_t el, nl; int32_t rc;
    if (!PyArg_ParseTuple(args, "y*y*", &ext, &name)) return NULL;
    if (u32_len(ext.len, &el) < 0 || u32_len(name.len, &nl) < 0 || el % sizeof(wadup_extent) != 0) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "extents must be 16-byte records");
        PyBuffer_Release(&ext); PyBuffer_Release(&name); return NULL;
    }
    rc = emit_subcontent_extents((const wadup_extent *)ext.buf, el / (uint32_t)sizeof(wadup_extent), name.buf, nl);
    PyBuffer_Release(&ext); PyBuffer_Release(&name);
    return PyLong_FromLong(rc);
}

static PyObject *w_stream_begin(PyObject *self, PyObject *args) {
    Py_buffer name; uint32_t nl; int32_t rc;
    if (!PyArg_ParseTuple(args, "y*", &name)) return NULL;
    if (u32_len(name.len, &nl) < 0) { PyBuffer_Release(&name); return NULL; }
    rc = emit_stream_begin(name.buf, nl);
    PyBuffer_Release(&name);
    return PyLong_FromLong(rc);
}

static PyObject *w_stream_write(PyObject *self, PyObject *args) {
    int handle; Py_buffer data; uint32_t dl; int32_t rc;
    if (!PyArg_ParseTuple(args, "iy*", &handle, &data)) return NULL;
    if (u32_len(data.len, &dl) < 0) { PyBuffer_Release(&data); return NULL; }
    rc = emit_stream_write(handle, data.buf, dl);
    PyBuffer_Release(&data);
    return PyLong_FromLong(rc);
}

static PyObject *w_stream_skip(PyObject *self, PyObject *args) {
    int handle; long long length;
    if (!PyArg_ParseTuple(args, "iL", &handle, &length)) return NULL;
    return PyLong_FromLong(emit_stream_skip(handle, (int64_t)length));
}

static PyObject *w_stream_end(PyObject *self, PyObject *args) {
    int handle;
    if (!PyArg_ParseTuple(args, "i", &handle)) return NULL;
    return PyLong_FromLong(emit_stream_end(handle));
}

static PyObject *w_stream_abort(PyObject *self, PyObject *args) {
    int handle;
    if (!PyArg_ParseTuple(args, "i", &handle)) return NULL;
    return PyLong_FromLong(emit_stream_abort(handle));
}

static PyObject *w_log(PyObject *self, PyObject *args) {
    int level; Py_buffer msg; uint32_t ml; int32_t rc;
    if (!PyArg_ParseTuple(args, "iy*", &level, &msg)) return NULL;
    if (u32_len(msg.len, &ml) < 0) { PyBuffer_Release(&msg); return NULL; }
    rc = log_message(level, msg.buf, ml);
    PyBuffer_Release(&msg);
    return PyLong_FromLong(rc);
}

static PyObject *w_set_content_type(PyObject *self, PyObject *args) {
    Py_buffer mime, desc; uint32_t ml, dl; int32_t rc;
    if (!PyArg_ParseTuple(args, "y*y*", &mime, &desc)) return NULL;
    if (u32_len(mime.len, &ml) < 0 || u32_len(desc.len, &dl) < 0) { PyBuffer_Release(&mime); PyBuffer_Release(&desc); return NULL; }
    rc = set_content_type(mime.buf, ml, desc.buf, dl);
    PyBuffer_Release(&mime); PyBuffer_Release(&desc);
    return PyLong_FromLong(rc);
}

static PyMethodDef wadup_methods[] = {
    {"size", w_size, METH_NOARGS, "get_content_size64() -> int (negative: an error code)"},
    {"read", w_read, METH_VARARGS, "read(offset, n) -> bytes, or an int error code (read_content64)"},
    {"readinto", w_readinto, METH_VARARGS, "readinto(offset, buffer) -> 0 or an error code (read_content64)"},
    {"uuid", w_uuid, METH_NOARGS, "get_content_uuid() -> 16 bytes, or an int error code"},
    {"filename", w_filename, METH_NOARGS, "get_content_filename() -> bytes, or an int error code"},
    {"content_type", w_content_type, METH_NOARGS, "get_content_type() -> bytes (empty: none), or an int error code"},
    {"define_table", w_define_table, METH_VARARGS, "define_table(name, columns_json) -> id or error code"},
    {"insert_row", w_insert_row, METH_VARARGS, "insert_row(id, row_json) -> 0 or error code"},
    {"emit_bytes", w_emit_bytes, METH_VARARGS, "emit_subcontent_bytes(data, name) -> 0 or error code"},
    {"emit_slice", w_emit_slice, METH_VARARGS, "emit_subcontent_slice64(offset, length, name) -> 0 or error code"},
    {"emit_extents", w_emit_extents, METH_VARARGS, "emit_subcontent_extents(packed, name) -> 0 or error code"},
    {"stream_begin", w_stream_begin, METH_VARARGS, "emit_stream_begin(name) -> handle or error code"},
    {"stream_write", w_stream_write, METH_VARARGS, "emit_stream_write(handle, data) -> 0 or error code"},
    {"stream_skip", w_stream_skip, METH_VARARGS, "emit_stream_skip(handle, length) -> 0 or error code"},
    {"stream_end", w_stream_end, METH_VARARGS, "emit_stream_end(handle) -> 0 or error code"},
    {"stream_abort", w_stream_abort, METH_VARARGS, "emit_stream_abort(handle) -> 0 or error code"},
    {"log", w_log, METH_VARARGS, "log_message(level, msg) -> 0 or error code"},
    {"set_content_type", w_set_content_type, METH_VARARGS, "set_content_type(mime, description) -> 0 or error code"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef wadup_module = {PyModuleDef_HEAD_INIT, "_wadup", "WADUP's host functions (wadup.h).", -1, wadup_methods};

static PyObject *PyInit__wadup(void) { return PyModule_Create(&wadup_module); }

/* ------------------------------------------------------------------------- the reactor -- */

static int started;      /* the interpreter is up */
static int ready;        /* init returned 0 */
static PyObject *runtime; /* wadup._runtime */
static char *manifest;   /* wadup_accepts()'s JSON, NUL-terminated, made once */
static int manifest_made;

/* The last resort when the Python side itself cannot report (it normally logs its own errors). */
static void log_c(int level, const char *msg) { log_message(level, msg, (uint32_t)strlen(msg)); }

static void log_python_error(const char *what) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *s = value ? PyObject_Str(value) : NULL;
    const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
    const char *tname = type ? ((PyTypeObject *)type)->tp_name : "error";
    char line[1024];
    snprintf(line, sizeof line, "python runtime: %s: %s: %s", what, tname, text ? text : "");
    log_c(WADUP_LOG_ERROR, line);
    PyErr_Clear();
    Py_XDECREF(s); Py_XDECREF(type); Py_XDECREF(value); Py_XDECREF(tb);
}

static int start_interpreter(void) {
    PyStatus st;
    PyPreConfig pre;
    PyPreConfig_InitIsolatedConfig(&pre);
    pre.utf8_mode = 1;
    st = Py_PreInitialize(&pre);
    if (PyStatus_Exception(st)) goto fail;

    if (PyImport_AppendInittab("_wadup", PyInit__wadup) < 0) { log_c(WADUP_LOG_ERROR, "python runtime: cannot register _wadup"); return -1; }

    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.user_site_directory = 0;
    config.write_bytecode = 0;
    config.use_hash_seed = 1;          /* reproducible: set and dict orders, hashes */
    config.hash_seed = 0;
    config.install_signal_handlers = 0;
    config.parse_argv = 0;
    config.pathconfig_warnings = 0;
    config.safe_path = 1;
    config.buffered_stdio = 0;
    config.module_search_paths_set = 1;
    /* The standard library and the wadup package (one zip), then the module's vendored packages.
     * The user's module is loaded by its path (wadup._runtime), so /module is not on sys.path. */
    static const wchar_t *paths[] = {L"/python/python311.zip"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        st = PyWideStringList_Append(&config.module_search_paths, paths[i]);
        if (PyStatus_Exception(st)) goto fail_config;
    }
    struct stat sb;
    if (stat("/data/site-packages", &sb) == 0 && S_ISDIR(sb.st_mode)) {
        st = PyWideStringList_Append(&config.module_search_paths, L"/data/site-packages");
        if (PyStatus_Exception(st)) goto fail_config;
    }
    st = PyConfig_SetString(&config, &config.home, L"/python");
    if (PyStatus_Exception(st)) goto fail_config;
    st = PyConfig_SetString(&config, &config.program_name, L"python");
    if (PyStatus_Exception(st)) goto fail_config;
    st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) goto fail;
    return 0;
fail_config:
    PyConfig_Clear(&config);
fail: {
        char line[512];
        snprintf(line, sizeof line, "python runtime: the interpreter did not start: %s%s%s",
                 st.func ? st.func : "", st.func ? ": " : "", st.err_msg ? st.err_msg : "");
        log_c(WADUP_LOG_ERROR, line);
        return -1;
    }
}

/* Calls wadup._runtime.NAME() and returns its int result, or `otherwise` when it fails. */
static int call_runtime(const char *name, int otherwise) {
    PyObject *r = PyObject_CallMethod(runtime, name, NULL);
    if (!r) { log_python_error(name); return otherwise; }
    long v = PyLong_AsLong(r);
    Py_DECREF(r);
    if (v == -1 && PyErr_Occurred()) { log_python_error(name); return otherwise; }
    return (int)v;
}

WADUP_INIT int32_t init(void) {
    if (ready) return 0;
    if (!started) {
        if (start_interpreter() < 0) return 2;
        started = 1;
        runtime = PyImport_ImportModule("wadup._runtime");
        if (!runtime) { log_python_error("import wadup._runtime"); return 2; }
    }
    if (!runtime) return 2;
    int rc = call_runtime("init", 2);
    if (rc == 0) ready = 1;
    return rc;
}

EXPORT(process) int32_t process(void) {
    if (!ready) {
        int rc = init();
        if (rc != 0) return rc == 1 ? 1 : 2;
    }
    return call_runtime("process", 1);
}

/* The manifest JSON, made once from the module's ACCEPTS (0 when it has none, or before init). */
EXPORT(wadup_accepts) int32_t wadup_accepts(void) {
    if (!ready) return 0;
    if (!manifest_made) {
        manifest_made = 1;
        PyObject *r = PyObject_CallMethod(runtime, "manifest", NULL);
        if (!r) { log_python_error("manifest"); return 0; }
        if (PyBytes_Check(r)) {
            Py_ssize_t n = PyBytes_GET_SIZE(r);
            manifest = malloc((size_t)n + 1);
            if (manifest) { memcpy(manifest, PyBytes_AS_STRING(r), (size_t)n); manifest[n] = 0; }
        }
        Py_DECREF(r);
    }
    return (int32_t)(uintptr_t)manifest;
}
