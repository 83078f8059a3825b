"""What the reactor (Guests/Python/wadup_python.c) calls: init(), process(), manifest().

init() loads the user's module from /module/NAME.py by its path (/module is not on sys.path; the
module is named NAME, or wadup_module_NAME when NAME is taken by the standard library, so a
module called email.py can still import email), checks it has a callable ``process``, and runs its optional
``init()``. Failures are logged at error level through the host (type, message and file:line) with
the traceback at debug level; the return values are the ABI's (0 ready, 1 declined, 2 error).
"""
import sys

import _wadup
import wadup

MODULE_DIR = "/module"

user = None       # the user's module once imported
user_path = None  # /module/NAME.py
_manifest = None  # the manifest JSON (bytes), or None


def _log(level, text):
    _wadup.log(level, text.encode("utf-8", "replace"))


def _where(exc):
    """file:line of the innermost frame of the traceback that is in the user's code (or any)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return "%s:%s" % (exc.filename, exc.lineno)
    tb = exc.__traceback__
    found = None
    while tb is not None:
        f = tb.tb_frame.f_code.co_filename
        if found is None or not f.startswith("/python/"):
            found = "%s:%d" % (f, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _describe(exc):
    name = type(exc).__qualname__
    mod = type(exc).__module__
    if mod not in ("builtins", "__main__", None):
        name = mod + "." + name
    if isinstance(exc, SyntaxError):
        msg = exc.msg or ""
    else:
        msg = str(exc)
    return "%s: %s" % (name, msg) if msg else name


def _traceback(exc):
    try:
        import traceback
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
    except BaseException:  # a traceback must never hide the error it describes
        return None


def _report(what, exc):
    where = _where(exc)
    _log(3, "%s%s%s" % (what, _describe(exc), " (%s)" % where if where else ""))
    tb = _traceback(exc)
    if tb:
        _log(0, tb)


def _find_module():
    import os
    try:
        names = sorted(n for n in os.listdir(MODULE_DIR) if n.endswith(".py") and not n.startswith("."))
    except OSError as e:
        return None, "no module folder at %s: %s" % (MODULE_DIR, e)
    if len(names) != 1:
        return None, "%s holds %d .py files (%s); it must hold exactly one" % (MODULE_DIR, len(names), ", ".join(names) or "none")
    return names[0], None


def init():
    global user, user_path
    name, problem = _find_module()
    if problem:
        _log(3, problem)
        return 2
    stem = name[:-3]
    modname = stem
    user_path = MODULE_DIR + "/" + name
    try:
        from importlib.util import spec_from_file_location, module_from_spec, find_spec
        # The module's name is its stem, unless that would hide a module of the standard library
        # or of /data/site-packages (a module called email.py importing email).
        modname = stem
        if not stem.isidentifier() or stem in sys.modules or find_spec(stem) is not None:
            modname = "wadup_module_" + "".join(c if c.isalnum() else "_" for c in stem)
        spec = spec_from_file_location(modname, user_path)
        module = module_from_spec(spec)
        sys.modules[modname] = module
        spec.loader.exec_module(module)
    except BaseException as e:
        sys.modules.pop(modname, None)
        _report("%s: import failed: " % name, e)
        return 2
    process = getattr(module, "process", None)
    if not callable(process):
        _log(3, "%s has no function process(content)" % name)
        return 2
    accepts = getattr(module, "ACCEPTS", None)
    if accepts is not None and not isinstance(accepts, dict):
        _log(3, "%s: ACCEPTS is a dict (the manifest's \"accepts\"), not %s" % (name, type(accepts).__name__))
        return 2
    role = getattr(module, "ROLE", "analyze")
    if role not in ("analyze", "identify"):
        _log(3, "%s: ROLE is \"analyze\" or \"identify\", not %r" % (name, role))
        return 2
    global _manifest
    if accepts is not None or role != "analyze":
        import json
        doc = {"version": 1, "role": role}
        if accepts is not None:
            doc["accepts"] = accepts
        try:
            _manifest = json.dumps(doc, separators=(",", ":"), allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as e:
            _log(3, "%s: ACCEPTS cannot be written as JSON: %s" % (name, e))
            return 2
    user_init = getattr(module, "init", None)
    if callable(user_init):
        try:
            r = user_init()
        except BaseException as e:
            _report("%s: init() failed: " % name, e)
            return 2
        if r is False:
            return 1  # declined: the module logged why at info level
    user = module
    return 0


def process():
    try:
        user.process(wadup.Content())
        return 0
    except BaseException as e:  # (`e` and its traceback, with the run's frames, go at the block's end)
        _report("", e)
        return 1


def manifest():
    """The manifest JSON (bytes) made from the module's ACCEPTS and ROLE, or None without them."""
    return _manifest
