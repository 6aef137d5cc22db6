/* Summaries of builtin values in C: the twin of summarise.py's Summariser.value/_summarise.
 *
 * Returns exactly what the Python summariser returns (equal dicts, same key order, same types, the same
 * shared summaries of None/True/False) for the values it handles itself: None, bool, int up to 10**15,
 * finite floats, str (short, or whose scan window was found clean before), list/tuple/set/frozenset/dict
 * (items up to the same limits), and objects whose class names and run-local id are already remembered.
 * Everything else is handed to the Python summariser for that one value (Summariser._summarise,
 * .redacted, ._secret_str, ._class_names_of, ._object_id, .names.level), so each rule lives in one place.
 * Type checks are exact: no user code (no __repr__/__eq__/__hash__ of a user type) runs here.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

#include "../_jsonfmt.h"  /* orjson-exact JSON writers (shared with events/_jsonw.c) */

#define MAX_SEEN 16
#define MAX_TRIGGERS 64
#define MAX_TRIGGER_LEN 32
#if defined(__GNUC__) || defined(__clang__)
#define LOWEST_BIT(m) __builtin_ctzll(m)
#else
static int
LOWEST_BIT(unsigned long long m)
{
    int j = 0;
    while (!(m & 1)) {
        m >>= 1;
        j++;
    }
    return j;
}
#endif

typedef struct {
    PyObject *ids[MAX_SEEN];  /* the containers being summarised around a value (borrowed) */
    int n;
} Seen;

typedef struct {
    PyObject_HEAD
    PyObject *py;            /* the Python Summariser */
    PyObject *levels;        /* its names' cache: name -> level (dict) */
    PyObject *class_names;   /* id(class) -> (qualname, module, object type name, redacted type name) */
    PyObject *clean;         /* windows found clean (dict), long ... */
    PyObject *clean_short;   /* ... and short */
    PyObject *known;         /* KnownSecrets (its .version) */
    PyObject *objects;       /* the Recorder's id(obj) -> (oid, class), or None */
    PyObject *overflow;      /* the Recorder's id(class) -> the id its objects share past the limit, or None */
    PyObject *secret_codes;  /* the Recorder's secret code indexes (set), or None */
    PyObject *none_s, *true_s, *false_s;
    PyObject *none_j, *true_j, *false_j;  /* their JSON bytes */
    PyObject *f_dumps;       /* orjson.dumps, for floats (its float writer is ~8x PyOS_double_to_string's), or NULL */
    PyObject *m_summarise, *m_redacted, *m_secret_str, *m_class_names_of, *m_level, *m_pair_level;
    PyObject *m_secret_result, *m_failed, *f_private_key_head, *f_foreign;
    int no_extra;
    /* the secret gate (gate_clean): redact.py's pattern triggers (_BY_TRIGGER's keys), lower-case ASCII */
    PyObject *known_all;     /* KnownSecrets._all (dict): empty while no secret is known */
    int gate_ok;             /* 0: the triggers did not fit the tables below, every str is scanned */
    int n_trig;
    unsigned long long by_first[128];  /* first character -> bit set of the triggers starting with it */
    unsigned char trig_len[MAX_TRIGGERS];
    char trig[MAX_TRIGGERS][MAX_TRIGGER_LEN];
    Py_ssize_t str_limit, str_window, clean_min, shortest, items_limit, depth_limit;
    Py_ssize_t learn_min;    /* shorter str/bytes are never remembered: min(KNOWN_MIN, len(PRIVATE_KEY_MARK)) */
} Sum;

/* interned strings */
static PyObject *s_type, *s_value, *s_len, *s_truncated, *s_items, *s_entries, *s_id, *s_redacted;
static PyObject *s_int, *s_float, *s_str, *s_dict, *s_list, *s_tuple, *s_set, *s_frozenset, *s_version;
static PyObject *s_clean_version, *s_object_id, *s_module, *s_type_name;
static PyTypeObject *deque_type;

#if PY_VERSION_HEX < 0x030C0000
static PyObject *
PyErr_GetRaisedException(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL) {
        return NULL;
    }
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL) {
        PyException_SetTraceback(value, tb);
    }
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
}

static void
PyErr_SetRaisedException(PyObject *exc)
{
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc, PyException_GetTraceback(exc));
}
#endif

static PyObject *summ(Sum *s, PyObject *v, Py_ssize_t depth, Seen *seen);

static PyObject *
call_py_summarise(Sum *s, PyObject *v, Py_ssize_t depth, Seen *seen)
{
    PyObject *d = PyLong_FromSsize_t(depth);
    if (d == NULL) {
        return NULL;
    }
    PyObject *set;
    if (seen == NULL || seen->n == 0) {
        set = Py_NewRef(Py_None);
    }
    else {
        set = PySet_New(NULL);
        for (int i = 0; set != NULL && i < seen->n; i++) {
            PyObject *key = PyLong_FromVoidPtr(seen->ids[i]);
            if (key == NULL || PySet_Add(set, key) < 0) {
                Py_CLEAR(set);
            }
            Py_XDECREF(key);
        }
        if (set == NULL) {
            Py_DECREF(d);
            return NULL;
        }
    }
    PyObject *out = PyObject_CallFunctionObjArgs(s->m_summarise, v, d, set, NULL);
    Py_DECREF(d);
    Py_DECREF(set);
    return out;
}

static PyObject *
redacted(Sum *s, PyObject *v, int learn)
{
    return PyObject_CallFunctionObjArgs(s->m_redacted, v, learn ? Py_True : Py_False, NULL);
}

/* a dict of up to 4 (key, value) pairs, values stolen (NULL values: an error, the rest released) */
static PyObject *
build(int n, PyObject *k1, PyObject *v1, PyObject *k2, PyObject *v2, PyObject *k3, PyObject *v3,
      PyObject *k4, PyObject *v4)
{
    PyObject *keys[4] = {k1, k2, k3, k4};
    PyObject *vals[4] = {v1, v2, v3, v4};
    PyObject *out = NULL;
    for (int i = 0; i < n; i++) {
        if (vals[i] == NULL) {
            goto done;
        }
    }
    out = PyDict_New();
    for (int i = 0; out != NULL && i < n; i++) {
        if (PyDict_SetItem(out, keys[i], vals[i]) < 0) {
            Py_CLEAR(out);
        }
    }
done:
    for (int i = 0; i < n; i++) {
        Py_XDECREF(vals[i]);
    }
    return out;
}

/* the level of a secret name (0 none, 1 weak, 2 strong); -1 on error. name: an exact str */
static int
name_level(Sum *s, PyObject *name)
{
    PyObject *hit = PyDict_GetItemWithError(s->levels, name);
    PyObject *owned = NULL;
    if (hit == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
        hit = owned = PyObject_CallOneArg(s->m_level, name);
        if (hit == NULL) {
            return -1;
        }
    }
    int level = -1;
    if (PyLong_CheckExact(hit)) {
        long x = PyLong_AsLong(hit);
        level = x == -1 && PyErr_Occurred() ? -1 : (int)x;
    }
    else {
        PyErr_SetString(PyExc_TypeError, "a secret name's level is not an int");
    }
    Py_XDECREF(owned);
    return level;
}

static int
has_surrogate(PyObject *v)
{
    int kind = PyUnicode_KIND(v);
    if (kind == PyUnicode_1BYTE_KIND) {
        return 0;
    }
    const void *data = PyUnicode_DATA(v);
    Py_ssize_t n = PyUnicode_GET_LENGTH(v);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c >= 0xD800 && c <= 0xDFFF) {
            return 1;
        }
    }
    return 0;
}

/* Is the scan window already known clean (the Python _secret_str's cache hit)? 1 yes, 0 ask Python, -1 error */
static int
known_clean(Sum *s, PyObject *window)
{
    PyObject *version = PyObject_GetAttr(s->known, s_version);
    if (version == NULL) {
        return -1;
    }
    PyObject *mine = PyObject_GetAttr(s->py, s_clean_version);
    if (mine == NULL) {
        Py_DECREF(version);
        return -1;
    }
    int same = PyLong_CheckExact(version) && PyLong_CheckExact(mine) ?
        PyObject_RichCompareBool(version, mine, Py_EQ) : 0;
    Py_DECREF(version);
    Py_DECREF(mine);
    if (same <= 0) {
        return same;
    }
    PyObject *clean = PyUnicode_GET_LENGTH(window) < s->clean_min ? s->clean_short : s->clean;
    return PyDict_Contains(clean, window);
}

/* The secret gate: 1 when str v (exact) cannot hold a secret, so the Python scan (Summariser._secret_str,
 * redact.py Redactor.scan) can be skipped: no user patterns, no known secret yet, its scan window (the part
 * written plus the margin) pure ASCII, and no pattern trigger (redact.py _BY_TRIGGER) in it, case-insensitively:
 * Redactor.scan then finds nothing (its patterns run only on a text holding a trigger). 0: scan as before. */
static int
gate_clean(Sum *s, PyObject *v)
{
    if (!s->gate_ok || !s->no_extra || PyDict_GET_SIZE(s->known_all) != 0) {
        return 0;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(v);
    if (n > s->str_window) {
        n = s->str_window;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (!PyUnicode_IS_READY(v)) {
        return 0;
    }
#endif
    if (PyUnicode_KIND(v) != PyUnicode_1BYTE_KIND) {
        return 0;
    }
    const unsigned char *p = PyUnicode_1BYTE_DATA(v);
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c >= 0x80) {  /* str.lower() of a non-ASCII character may make a trigger's letters */
            return 0;
        }
        if (c >= 'A' && c <= 'Z') {
            c += 'a' - 'A';
        }
        unsigned long long m = s->by_first[c];
        while (m) {
            int j = LOWEST_BIT(m);
            m &= m - 1;
            Py_ssize_t len = s->trig_len[j];
            if (len > n - i) {
                continue;
            }
            const char *t = s->trig[j];
            Py_ssize_t k = 1;
            for (; k < len; k++) {
                unsigned char d = p[i + k];
                if (d >= 'A' && d <= 'Z') {
                    d += 'a' - 'A';
                }
                if (d != (unsigned char)t[k]) {
                    break;
                }
            }
            if (k == len) {
                return 0;  /* a trigger: scan */
            }
        }
    }
    return 1;
}

static PyObject *
str_summary(Sum *s, PyObject *v, Py_ssize_t depth, Seen *seen)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(v);
    if (!(n < s->shortest && s->no_extra)) {
        int gate = gate_clean(s, v);
        PyObject *window = gate ? NULL : n <= s->str_window ? Py_NewRef(v) : PyUnicode_Substring(v, 0, s->str_window);
        if (window == NULL && !gate) {
            return NULL;
        }
        int clean = gate ? 1 : known_clean(s, window);
        if (clean == 0) {
            PyObject *secret = PyObject_CallFunctionObjArgs(s->m_secret_str, window, v, NULL);
            clean = secret == NULL ? -1 : !PyObject_IsTrue(secret);
            Py_XDECREF(secret);
            if (clean == 0) {
                Py_DECREF(window);
                return redacted(s, v, 1);
            }
        }
        Py_XDECREF(window);
        if (clean < 0) {
            return NULL;
        }
        if (n > s->str_limit) {
            PyObject *head = PyUnicode_Substring(v, 0, s->str_limit);
            if (head == NULL) {
                return NULL;
            }
            if (!PyUnicode_IS_ASCII(head) && has_surrogate(head)) {
                Py_DECREF(head);
                return call_py_summarise(s, v, depth, seen);
            }
            return build(4, s_type, Py_NewRef(s_str), s_value, head, s_len, PyLong_FromSsize_t(n),
                         s_truncated, Py_NewRef(Py_True));
        }
    }
    if (!PyUnicode_IS_ASCII(v) && has_surrogate(v)) {
        return call_py_summarise(s, v, depth, seen);  /* utf8(): the lone surrogates replaced */
    }
    return build(2, s_type, Py_NewRef(s_str), s_value, Py_NewRef(v), NULL, NULL, NULL, NULL);
}

static int
seen_has(Seen *seen, PyObject *v)
{
    for (int i = 0; i < seen->n; i++) {
        if (seen->ids[i] == v) {
            return 1;
        }
    }
    return 0;
}

/* 1: "redacted" in summary and _private_key_head(item); 0: not; -1: error */
static int
private_key_after(Sum *s, PyObject *summary, PyObject *item)
{
    int has = PyDict_CheckExact(summary) ? PyDict_Contains(summary, s_redacted) : 0;
    if (has <= 0) {
        return has;
    }
    PyObject *head = PyObject_CallOneArg(s->f_private_key_head, item);
    if (head == NULL) {
        return -1;
    }
    int r = PyObject_IsTrue(head);
    Py_DECREF(head);
    return r;
}

/* summarise.py _pair_name_level: how secret the name of a (name, value) pair is */
static int
pair_level(Sum *s, PyObject *item)
{
    PyObject *name = PyTuple_CheckExact(item) ? PyTuple_GET_ITEM(item, 0) : PyList_GET_ITEM(item, 0);
    if (PyUnicode_CheckExact(name)) {
        if (PyUnicode_GET_LENGTH(name) <= 64) {
            return name_level(s, name);
        }
        PyObject *head = PyUnicode_Substring(name, 0, 64);
        if (head == NULL) {
            return -1;
        }
        int level = name_level(s, head);
        Py_DECREF(head);
        return level;
    }
    if (!PyBytes_CheckExact(name)) {
        return 0;
    }
    PyObject *r = PyObject_CallOneArg(s->m_pair_level, item);
    if (r == NULL) {
        return -1;
    }
    long x = PyLong_AsLong(r);
    Py_DECREF(r);
    return x == -1 && PyErr_Occurred() ? -1 : (int)x;
}

static PyObject *
truncated_container(PyObject *type_name, Py_ssize_t n)
{
    return build(3, s_type, Py_NewRef(type_name), s_len, PyLong_FromSsize_t(n), s_truncated,
                 PyBool_FromLong(n > 0), NULL, NULL);
}

static PyObject *
sequence(Sum *s, PyObject *v, PyObject *type_name, Py_ssize_t depth, Seen *seen)
{
    Py_ssize_t n = PyObject_Length(v);  /* exact builtin type: its C length */
    if (n < 0) {
        return NULL;
    }
    if (depth <= 0 || seen_has(seen, v)) {
        return truncated_container(type_name, n);
    }
    if (seen->n >= MAX_SEEN) {
        return call_py_summarise(s, v, depth, seen);
    }
    PyObject *head;
    if (PyList_CheckExact(v)) {
        head = PyList_GetSlice(v, 0, s->items_limit);
    }
    else if (PyTuple_CheckExact(v)) {
        head = PyTuple_GetSlice(v, 0, s->items_limit);
    }
    else {  /* set, frozenset: the set's own order, nothing hashed */
        head = PyList_New(0);
        PyObject *it = head ? PyObject_GetIter(v) : NULL;
        if (it == NULL) {
            Py_CLEAR(head);
        }
        for (Py_ssize_t i = 0; head != NULL && i < s->items_limit; i++) {
            PyObject *item = PyIter_Next(it);
            if (item == NULL) {
                if (PyErr_Occurred()) {
                    Py_CLEAR(head);
                }
                break;
            }
            if (PyList_Append(head, item) < 0) {
                Py_CLEAR(head);
            }
            Py_DECREF(item);
        }
        Py_XDECREF(it);
    }
    if (head == NULL) {
        return NULL;
    }
    PyObject *out = PyDict_New();
    PyObject *items = PyList_New(0);
    PyObject *len = PyLong_FromSsize_t(n);
    if (out == NULL || items == NULL || len == NULL || PyDict_SetItem(out, s_type, type_name) < 0 ||
            PyDict_SetItem(out, s_len, len) < 0 || PyDict_SetItem(out, s_items, items) < 0) {
        goto error;
    }
    seen->ids[seen->n++] = v;
    int after_key = 0;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(head);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(head, i);
        PyObject *summary;
        if (after_key) {
            summary = redacted(s, item, 1);
        }
        else {
            int level = 0;
            int pair = (PyTuple_CheckExact(item) && PyTuple_GET_SIZE(item) == 2) ||
                       (PyList_CheckExact(item) && PyList_GET_SIZE(item) == 2);
            if (pair) {
                level = pair_level(s, item);
                if (level < 0) {
                    seen->n--;
                    goto error;
                }
            }
            if (level) {  /* ("Authorization", "Basic ..."): headers and form fields often come as pairs */
                Py_INCREF(item);  /* (a list may change meanwhile) */
                PyObject *first = PySequence_GetItem(item, 0);
                PyObject *first_s = first ? summ(s, first, 1, seen) : NULL;
                Py_XDECREF(first);
                PyObject *second = first_s ? PySequence_GetItem(item, 1) : NULL;
                PyObject *second_s = second ? redacted(s, second, level == 2) : NULL;
                Py_XDECREF(second);
                PyObject *pair_items = second_s ? PyList_New(2) : NULL;
                if (pair_items != NULL) {
                    PyList_SET_ITEM(pair_items, 0, first_s);
                    PyList_SET_ITEM(pair_items, 1, second_s);
                    first_s = second_s = NULL;
                }
                Py_XDECREF(first_s);
                Py_XDECREF(second_s);
                summary = build(3, s_type, Py_NewRef(PyTuple_CheckExact(item) ? s_tuple : s_list),
                                s_len, PyLong_FromLong(2), s_items, pair_items, NULL, NULL);
                Py_DECREF(item);
                if (summary == NULL || PyList_Append(items, summary) < 0) {
                    Py_XDECREF(summary);
                    seen->n--;
                    goto error;
                }
                Py_DECREF(summary);
                continue;
            }
            summary = summ(s, item, depth - 1, seen);
            if (summary != NULL) {
                after_key = private_key_after(s, summary, item);
                if (after_key < 0) {
                    Py_CLEAR(summary);
                }
            }
        }
        if (summary == NULL || PyList_Append(items, summary) < 0) {
            Py_XDECREF(summary);
            seen->n--;
            goto error;
        }
        Py_DECREF(summary);
    }
    seen->n--;
    if (n > s->items_limit && PyDict_SetItem(out, s_truncated, Py_True) < 0) {
        goto error;
    }
    Py_DECREF(head);
    Py_DECREF(items);
    Py_DECREF(len);
    return out;
error:
    Py_DECREF(head);
    Py_XDECREF(items);
    Py_XDECREF(len);
    Py_XDECREF(out);
    return NULL;
}

static PyObject *
mapping(Sum *s, PyObject *v, Py_ssize_t depth, Seen *seen)
{
    Py_ssize_t n = PyDict_GET_SIZE(v);
    if (depth <= 0 || seen_has(seen, v)) {
        return truncated_container(s_dict, n);
    }
    if (seen->n >= MAX_SEEN) {
        return call_py_summarise(s, v, depth, seen);
    }
    /* the first entries, taken before any Python code runs */
    PyObject *keys[16], *vals[16];
    Py_ssize_t limit = s->items_limit < 16 ? s->items_limit : 16, count = 0, pos = 0;
    if (s->items_limit > 16) {
        return call_py_summarise(s, v, depth, seen);
    }
    PyObject *k, *val;
    while (count < limit && PyDict_Next(v, &pos, &k, &val)) {
        keys[count] = Py_NewRef(k);
        vals[count] = Py_NewRef(val);
        count++;
    }
    PyObject *out = PyDict_New();
    PyObject *entries = PyList_New(0);
    PyObject *len = PyLong_FromSsize_t(n);
    if (out == NULL || entries == NULL || len == NULL || PyDict_SetItem(out, s_type, s_dict) < 0 ||
            PyDict_SetItem(out, s_len, len) < 0) {
        goto error;
    }
    seen->ids[seen->n++] = v;
    int after_key = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = vals[i];
        PyObject *ks = summ(s, keys[i], 1, seen);
        if (ks == NULL) {
            seen->n--;
            goto error;
        }
        int level = PyUnicode_CheckExact(keys[i]) ? name_level(s, keys[i]) : 0;
        PyObject *summary = NULL;
        if (level > 0 || after_key) {
            summary = redacted(s, item, after_key || level == 2);
        }
        else if (level == 0) {
            summary = summ(s, item, depth - 1, seen);
            if (summary != NULL) {
                after_key = private_key_after(s, summary, item);
                if (after_key < 0) {
                    Py_CLEAR(summary);
                }
            }
        }
        PyObject *entry = summary ? PyList_New(2) : NULL;
        if (entry == NULL) {
            Py_DECREF(ks);
            Py_XDECREF(summary);
            seen->n--;
            goto error;
        }
        PyList_SET_ITEM(entry, 0, ks);
        PyList_SET_ITEM(entry, 1, summary);
        int err = PyList_Append(entries, entry);
        Py_DECREF(entry);
        if (err < 0) {
            seen->n--;
            goto error;
        }
    }
    seen->n--;
    if (PyDict_SetItem(out, s_entries, entries) < 0 ||
            (n > s->items_limit && PyDict_SetItem(out, s_truncated, Py_True) < 0)) {
        goto error;
    }
    Py_DECREF(entries);
    Py_DECREF(len);
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_DECREF(keys[i]);
        Py_DECREF(vals[i]);
    }
    return out;
error:
    Py_XDECREF(out);
    Py_XDECREF(entries);
    Py_XDECREF(len);
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_DECREF(keys[i]);
        Py_DECREF(vals[i]);
    }
    return NULL;
}

/* summarise.py class_path(cls) as "module.qualname" (a class's summary value), read from the type itself */
static PyObject *
class_value(PyTypeObject *cls)
{
    PyObject *module, *qual = PyType_GetQualName(cls);
    if (qual == NULL) {
        return NULL;
    }
    if (!PyUnicode_CheckExact(qual)) {  /* exact: a str subclass's methods are user code */
        Py_SETREF(qual, PyUnicode_FromString("?"));
        if (qual == NULL) {
            return NULL;
        }
    }
    if (PyType_HasFeature(cls, Py_TPFLAGS_HEAPTYPE)) {  /* type.__module__: the class's own __module__ entry */
        module = cls->tp_dict != NULL && PyDict_CheckExact(cls->tp_dict) ?
            PyDict_GetItemWithError(cls->tp_dict, s_module) : NULL;
        if (module == NULL && PyErr_Occurred()) {
            Py_DECREF(qual);
            return NULL;
        }
        module = module != NULL && PyUnicode_CheckExact(module) ? Py_NewRef(module) : PyUnicode_FromString("?");
    }
    else {  /* a static type: its module is tp_name up to the last dot, or builtins */
        const char *dot = strrchr(cls->tp_name, '.');
        module = dot ? PyUnicode_FromStringAndSize(cls->tp_name, dot - cls->tp_name) : PyUnicode_FromString("builtins");
    }
    PyObject *out = module ? PyUnicode_FromFormat("%U.%U", module, qual) : NULL;
    Py_XDECREF(module);
    Py_DECREF(qual);
    return out;
}

/* the class's remembered object type name (borrowed from the cache entry), NULL when not remembered */
static PyObject *
cached_class_name(Sum *s, PyTypeObject *t)
{
    PyObject *key = PyLong_FromVoidPtr(t);
    if (key == NULL) {
        return NULL;
    }
    PyObject *hit = PyDict_GetItemWithError(s->class_names, key);
    Py_DECREF(key);
    if (hit == NULL || !PyTuple_CheckExact(hit) || PyTuple_GET_SIZE(hit) != 4) {
        return NULL;
    }
    PyObject *q = PyTuple_GET_ITEM(hit, 0);
    if (q == Py_None) {
        return PyTuple_GET_ITEM(hit, 2);
    }
    if (!PyType_HasFeature(t, Py_TPFLAGS_HEAPTYPE) || t->tp_dict == NULL || !PyDict_CheckExact(t->tp_dict)) {
        return NULL;
    }
    PyObject *qual = PyType_GetQualName(t);  /* a heap type's own __qualname__ object */
    if (qual == NULL) {
        PyErr_Clear();
        return NULL;
    }
    int same = qual == q;
    Py_DECREF(qual);
    if (!same) {
        return NULL;
    }
    PyObject *module = PyDict_GetItemWithError(t->tp_dict, s_module);  /* type.__module__ of a heap type */
    if (module == NULL) {
        PyErr_Clear();
        return NULL;
    }
    return module == PyTuple_GET_ITEM(hit, 1) ? PyTuple_GET_ITEM(hit, 2) : NULL;
}

static PyObject *
object_summary(Sum *s, PyObject *v)
{
    PyTypeObject *t = Py_TYPE(v);
    PyObject *name = cached_class_name(s, t);
    if (name != NULL) {
        Py_INCREF(name);
    }
    else {
        if (PyErr_Occurred()) {
            return NULL;
        }
        PyObject *entry = PyObject_CallOneArg(s->m_class_names_of, (PyObject *)t);
        if (entry == NULL) {
            return NULL;
        }
        name = PySequence_GetItem(entry, 2);
        Py_DECREF(entry);
        if (name == NULL) {
            return NULL;
        }
    }
    PyObject *oid = NULL;
    if (s->objects != Py_None) {
        PyObject *key = PyLong_FromVoidPtr(v);
        if (key == NULL) {
            Py_DECREF(name);
            return NULL;
        }
        PyObject *ent = PyDict_GetItemWithError(s->objects, key);
        Py_DECREF(key);
        if (ent != NULL && PyTuple_CheckExact(ent) && PyTuple_GET_SIZE(ent) == 2 &&
                PyTuple_GET_ITEM(ent, 1) == (PyObject *)t) {
            oid = Py_NewRef(PyTuple_GET_ITEM(ent, 0));
        }
        else if (PyErr_Occurred()) {
            Py_DECREF(name);
            return NULL;
        }
        else {  /* past the limit of its class: the id its objects share (ObjectIds.object_id's second look) */
            key = PyLong_FromVoidPtr(t);
            PyObject *shared = key ? PyDict_GetItemWithError(s->overflow, key) : NULL;
            Py_XDECREF(key);
            if (shared != NULL) {
                oid = Py_NewRef(shared);
            }
            else if (PyErr_Occurred()) {
                Py_DECREF(name);
                return NULL;
            }
        }
    }
    if (oid == NULL) {
        PyObject *f = PyObject_GetAttr(s->py, s_object_id);
        oid = f ? PyObject_CallOneArg(f, v) : NULL;
        Py_XDECREF(f);
    }
    return build(2, s_type, name, s_id, oid, NULL, NULL, NULL, NULL);
}

static PyObject *
summ(Sum *s, PyObject *v, Py_ssize_t depth, Seen *seen)
{
    PyTypeObject *t = Py_TYPE(v);
    if (v == Py_None) {
        return Py_NewRef(s->none_s);
    }
    if (t == &PyBool_Type) {
        return Py_NewRef(v == Py_True ? s->true_s : s->false_s);
    }
    if (t == &PyLong_Type) {
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (x == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (overflow || x <= -1000000000000000LL || x >= 1000000000000000LL) {
            return call_py_summarise(s, v, depth, seen);
        }
        return build(2, s_type, Py_NewRef(s_int), s_value, Py_NewRef(v), NULL, NULL, NULL, NULL);
    }
    if (t == &PyUnicode_Type) {
        return str_summary(s, v, depth, seen);
    }
    if (t == &PyFloat_Type) {
        double d = PyFloat_AS_DOUBLE(v);
        if (isnan(d) || isinf(d)) {
            return call_py_summarise(s, v, depth, seen);
        }
        return build(2, s_type, Py_NewRef(s_float), s_value, Py_NewRef(v), NULL, NULL, NULL, NULL);
    }
    if (t == &PyList_Type) {
        return sequence(s, v, s_list, depth, seen);
    }
    if (t == &PyTuple_Type) {
        return sequence(s, v, s_tuple, depth, seen);
    }
    if (t == &PyDict_Type) {
        return mapping(s, v, depth, seen);
    }
    if (t == &PySet_Type) {
        return sequence(s, v, s_set, depth, seen);
    }
    if (t == &PyFrozenSet_Type) {
        return sequence(s, v, s_frozenset, depth, seen);
    }
    if (t == &PyType_Type) {
        return build(2, s_type, Py_NewRef(s_type_name), s_value, class_value((PyTypeObject *)v), NULL, NULL, NULL,
                     NULL);
    }
    if (t == &PyBytes_Type || t == &PyByteArray_Type || t == &PyComplex_Type || t == deque_type) {
        return call_py_summarise(s, v, depth, seen);
    }
    return object_summary(s, v);
}

/* An error inside a summary: the program's exception goes on (NULL), Skeleton's becomes the Python
 * summariser's "summary failed" summary. */
static PyObject *
failed(Sum *s)
{
    PyObject *exc = PyErr_GetRaisedException();
    if (exc == NULL) {
        return NULL;
    }
    if (PyErr_GivenExceptionMatches(exc, PyExc_Exception)) {
        PyObject *r = PyObject_CallOneArg(s->f_foreign, exc);
        int theirs = r == NULL ? -1 : PyObject_IsTrue(r);
        Py_XDECREF(r);
        if (theirs == 0) {
            PyObject *out = PyObject_CallOneArg(s->m_failed, exc);
            Py_DECREF(exc);
            return out;
        }
        if (theirs < 0) {
            Py_DECREF(exc);
            return NULL;
        }
    }
    PyErr_SetRaisedException(exc);
    return NULL;
}

static PyObject *
value_of(Sum *s, PyObject *v, PyObject *name)
{
    if (v == Py_None) {
        return Py_NewRef(s->none_s);
    }
    if (Py_TYPE(v) == &PyBool_Type) {
        return Py_NewRef(v == Py_True ? s->true_s : s->false_s);
    }
    PyObject *out;
    int level = 0;
    if (name != NULL && name != Py_None) {
        if (PyUnicode_CheckExact(name)) {
            level = name_level(s, name);
        }
        else {  /* not an argument's name: the Python rules */
            out = PyObject_CallMethod(s->py, "value", "OO", v, name);
            return out;
        }
    }
    if (level > 0) {
        out = redacted(s, v, level == 2);
    }
    else if (level == 0) {
        Seen seen = {.n = 0};
        out = summ(s, v, s->depth_limit, &seen);
    }
    else {
        out = NULL;
    }
    return out != NULL ? out : failed(s);
}

/* -- summaries as JSON bytes ------------------------------------------------------------------------
 *
 * The bytes orjson.dumps(summary) gives, written directly for the common leaves (None, bools, ints below 10**15,
 * finite floats, short strings and strings whose window was found clean, objects whose class name and id are
 * known), and for everything else value_of's summary encoded by put_value (_jsonfmt.h): no orjson call, no copy.
 * BAIL (raised as Unstorable): a summary orjson would refuse; the Recorder then takes the dict path. */

static PyObject *Unstorable;

static int
put_bytes(Buf *b, PyObject *bytes)
{
    return append(b, PyBytes_AS_STRING(bytes), PyBytes_GET_SIZE(bytes));
}

/* summary (a dict, stolen) encoded; NULL summary: -1 */
static int
put_summary(Buf *b, PyObject *summary)
{
    if (summary == NULL) {
        return -1;
    }
    int r = put_value(b, summary, 1);
    Py_DECREF(summary);
    return r;
}

/* a str's summary without a scan: 1 written, 0 not ours (the dict path), -1 error */
static int
put_plain_str(Sum *s, Buf *b, PyObject *v)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(v);
    if (!PyUnicode_IS_ASCII(v) && has_surrogate(v)) {
        return 0;
    }
    if (!(n < s->shortest && s->no_extra)) {
        int gate = gate_clean(s, v);
        if (gate && n > s->str_limit) {  /* {"type":"str","value":head,"len":n,"truncated":true}: head is ASCII */
            PyObject *head = PyUnicode_Substring(v, 0, s->str_limit);
            if (head == NULL) {
                return -1;
            }
            int r = APPEND_LIT(b, "{\"type\":\"str\",\"value\":");
            if (r == 0) {
                r = put_str(b, head);
            }
            Py_DECREF(head);
            if (r == 0) {
                r = APPEND_LIT(b, ",\"len\":");
            }
            if (r == 0) {
                r = put_i64(b, (long long)n);
            }
            if (r == 0) {
                r = APPEND_LIT(b, ",\"truncated\":true}");
            }
            return r != 0 ? (r == BAIL ? 0 : -1) : 1;
        }
        if (gate) {
            goto write;
        }
        if (n > s->str_limit) {
            return 0;
        }
        PyObject *window = n <= s->str_window ? Py_NewRef(v) : PyUnicode_Substring(v, 0, s->str_window);
        if (window == NULL) {
            return -1;
        }
        int clean = known_clean(s, window);
        Py_DECREF(window);
        if (clean <= 0) {
            return clean;
        }
    }
write:
    if (APPEND_LIT(b, "{\"type\":\"str\",\"value\":") < 0) {
        return -1;
    }
    int r = put_str(b, v);
    return r != 0 ? (r == BAIL ? 0 : -1) : APPEND_LIT(b, "}") < 0 ? -1 : 1;
}

/* an object's summary from the remembered class name and id: 1 written, 0 not ours, -1 error */
static int
put_known_object(Sum *s, Buf *b, PyObject *v)
{
    PyTypeObject *t = Py_TYPE(v);
    if (s->objects == Py_None) {
        return 0;
    }
    PyObject *name = cached_class_name(s, t);  /* borrowed */
    if (name == NULL || !PyUnicode_CheckExact(name)) {
        return PyErr_Occurred() ? -1 : 0;
    }
    PyObject *key = PyLong_FromVoidPtr(v);
    if (key == NULL) {
        return -1;
    }
    PyObject *ent = PyDict_GetItemWithError(s->objects, key);
    Py_DECREF(key);
    if (ent == NULL || !PyTuple_CheckExact(ent) || PyTuple_GET_SIZE(ent) != 2 ||
            PyTuple_GET_ITEM(ent, 1) != (PyObject *)t || !PyLong_CheckExact(PyTuple_GET_ITEM(ent, 0))) {
        return PyErr_Occurred() ? -1 : 0;
    }
    PyObject *oid = PyTuple_GET_ITEM(ent, 0);
    Py_INCREF(name);
    Py_INCREF(oid);
    int r = APPEND_LIT(b, "{\"type\":");
    if (r == 0) {
        r = put_str(b, name);
    }
    if (r == 0) {
        r = APPEND_LIT(b, ",\"id\":");
    }
    if (r == 0) {
        r = put_int(b, oid);
    }
    if (r == 0) {
        r = APPEND_LIT(b, "}");
    }
    Py_DECREF(name);
    Py_DECREF(oid);
    return r == 0 ? 1 : r == BAIL ? 0 : -1;
}

/* value_of(v, name)'s summary as JSON into b: 0, BAIL, or -1 (an error: the program's exception) */
static int
put_summary_of(Sum *s, Buf *b, PyObject *v, PyObject *name)
{
    PyTypeObject *t = Py_TYPE(v);
    if (v == Py_None) {
        return put_bytes(b, s->none_j);
    }
    if (t == &PyBool_Type) {
        return put_bytes(b, v == Py_True ? s->true_j : s->false_j);
    }
    Py_ssize_t mark = b->len;
    int done = 0;
    if (name != NULL && name != Py_None) {
        int level = PyUnicode_CheckExact(name) ? name_level(s, name) : 1;
        if (level < 0) {  /* as value_of */
            return put_summary(b, failed(s));
        }
        if (level > 0) {  /* a secret name, or not an argument's name: the dict path */
            return put_summary(b, value_of(s, v, name));
        }
    }
    if (t == &PyLong_Type) {
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (x == -1 && PyErr_Occurred()) {
            done = -1;
        }
        else if (!overflow && x > -1000000000000000LL && x < 1000000000000000LL) {
            done = APPEND_LIT(b, "{\"type\":\"int\",\"value\":") || put_i64(b, x) || APPEND_LIT(b, "}") ? -1 : 1;
        }
    }
    else if (t == &PyUnicode_Type) {
        done = put_plain_str(s, b, v);
    }
    else if (t == &PyFloat_Type) {
        double d = PyFloat_AS_DOUBLE(v);
        if (!isnan(d) && !isinf(d)) {
            PyObject *text = s->f_dumps != NULL ? PyObject_CallOneArg(s->f_dumps, v) : NULL;  /* orjson's own bytes */
            if (text != NULL && !PyBytes_CheckExact(text)) {
                Py_CLEAR(text);
                PyErr_SetString(PyExc_TypeError, "orjson.dumps did not return bytes");
            }
            done = (s->f_dumps != NULL && text == NULL) || APPEND_LIT(b, "{\"type\":\"float\",\"value\":") ||
                   (text != NULL ? put_bytes(b, text) : put_double(b, d)) || APPEND_LIT(b, "}") ? -1 : 1;
            Py_XDECREF(text);
        }
    }
    else if (t != &PyList_Type && t != &PyTuple_Type && t != &PyDict_Type && t != &PySet_Type &&
             t != &PyFrozenSet_Type && t != &PyType_Type && t != &PyBytes_Type && t != &PyByteArray_Type &&
             t != &PyComplex_Type && t != deque_type) {
        done = put_known_object(s, b, v);
    }
    if (done == 1) {
        return 0;
    }
    b->len = mark;
    if (done < 0) {  /* as value_of: Skeleton's error becomes the "summary failed" note */
        return put_summary(b, failed(s));
    }
    return put_summary(b, value_of(s, v, NULL));
}

static PyObject *
json_bytes(Buf *b, int r)
{
    PyObject *out = NULL;
    if (r == 0) {
        out = PyBytes_FromStringAndSize(b->p, b->len);
    }
    else if (r == BAIL) {
        PyErr_SetString(Unstorable, "a summary orjson cannot write");
    }
    PyMem_Free(b->p);
    return out;
}

static int
buf_start(Buf *b)
{
    b->len = 0;
    b->cap = 256;  /* pymalloc's: most summaries fit */
    b->p = PyMem_Malloc((size_t)b->cap);
    if (b->p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* A value Summariser.secret_result summarises as usual (value()) rather than redacting: None, a bool, a
   class whose metaclass is type, an instance of a heap type other than deque (a class defined in Python;
   the data types are static types but deque, a heap type from 3.12; their subclasses are summarised as
   usual too). The other static types (the data types, functions, modules...) go to secret_result
   itself. Decided here, secret-named callables that return objects (sqlparse's token_next and the like)
   no longer take the Python summariser. */
static inline int
holds_no_data(PyObject *v)
{
    PyTypeObject *t = Py_TYPE(v);
    return v == Py_None || t == &PyBool_Type || t == &PyType_Type
           || (PyType_HasFeature(t, Py_TPFLAGS_HEAPTYPE) && t != deque_type);
}

/* Summariser.secret_result of a builtin data value (an exact str, bytes, number or container), as JSON bytes:
   redacted() makes {"type": name, "redacted": true} with "len" for str/bytes/bytearray, and remembers a str/bytes
   as a known secret (learn), which it never is below s->learn_min characters. 1 written; 0 not done here (not
   such a value, or long enough to be learnt: the Python method does it all); -1 error. A tokenizer's results
   (sqlparse's lexer, a `tokens` generator) went through Python for each: ~14,000 instructions. */
static int
put_secret_data(Sum *s, Buf *b, PyObject *v)
{
    PyTypeObject *t = Py_TYPE(v);
    Py_ssize_t len = -1;
    int r;
    if (t == &PyUnicode_Type || t == &PyBytes_Type || t == &PyByteArray_Type) {
        len = t == &PyUnicode_Type ? PyUnicode_GET_LENGTH(v) : t == &PyBytes_Type ? PyBytes_GET_SIZE(v)
                                                                                    : PyByteArray_GET_SIZE(v);
        if (len >= s->learn_min) {
            return 0;
        }
        r = t == &PyUnicode_Type ? APPEND_LIT(b, "{\"type\":\"str\",\"redacted\":true,\"len\":")
            : t == &PyBytes_Type ? APPEND_LIT(b, "{\"type\":\"bytes\",\"redacted\":true,\"len\":")
                                 : APPEND_LIT(b, "{\"type\":\"bytearray\",\"redacted\":true,\"len\":");
        return r < 0 || put_i64(b, (long long)len) < 0 || APPEND_LIT(b, "}") < 0 ? -1 : 1;
    }
#define SECRET_DATA(type, name) \
    if (t == (type)) { \
        return APPEND_LIT(b, "{\"type\":\"" name "\",\"redacted\":true}") < 0 ? -1 : 1; \
    }
    SECRET_DATA(&PyLong_Type, "int")
    SECRET_DATA(&PyFloat_Type, "float")
    SECRET_DATA(&PyComplex_Type, "complex")
    SECRET_DATA(&PyList_Type, "list")
    SECRET_DATA(&PyTuple_Type, "tuple")
    SECRET_DATA(&PySet_Type, "set")
    SECRET_DATA(&PyFrozenSet_Type, "frozenset")
    SECRET_DATA(&PyDict_Type, "dict")
    SECRET_DATA(deque_type, "collections.deque")
#undef SECRET_DATA
    return 0;
}

/* Recorder.summarise_return's bytes: orjson.dumps(result(index, value)) */
static PyObject *
Sum_result_json(Sum *s, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "result_json(index, value)");
        return NULL;
    }
    Buf b;
    if (buf_start(&b) < 0) {
        return NULL;
    }
    if (s->secret_codes != Py_None) {
        int secret = PySet_Contains(s->secret_codes, args[0]);
        if (secret < 0 || (secret && !holds_no_data(args[1]))) {
            int done = secret < 0 ? -1 : put_secret_data(s, &b, args[1]);
            return json_bytes(&b, done < 0 ? -1 : done ? 0
                                  : put_summary(&b, PyObject_CallOneArg(s->m_secret_result, args[1])));
        }
    }
    return json_bytes(&b, put_summary_of(s, &b, args[1], NULL));
}

/* The arguments bound in a frame, one by one (args_json and args share it): open, next until it returns 0, close. */
typedef struct {
    PyFrameObject *frame;
    PyObject *names;  /* a tuple */
    Py_ssize_t i;
#if PY_VERSION_HEX < 0x030C0000
    PyObject *loc;    /* 3.11: frame.f_locals, a dict */
#endif
} ArgReader;

/* 0, or -1 (an error set) */
static int
args_open(ArgReader *r, PyObject *frame, PyObject *names)
{
    r->frame = (PyFrameObject *)frame;
    r->names = names;
    r->i = 0;
#if PY_VERSION_HEX < 0x030C0000
    r->loc = PyFrame_GetLocals(r->frame);
    if (r->loc != NULL && !PyDict_Check(r->loc)) {
        Py_CLEAR(r->loc);
        PyErr_SetString(PyExc_TypeError, "frame.f_locals is not a dict");
    }
    if (r->loc == NULL) {
        return -1;
    }
#endif
    return 0;
}

/* the next bound argument: 1 (*name borrowed, *value a new reference), 0 no more, -1 error; an argument not bound
 * (yet) is left out, as `n in frame.f_locals` does */
static int
args_next(ArgReader *r, PyObject **name, PyObject **value)
{
    while (r->i < PyTuple_GET_SIZE(r->names)) {
        PyObject *n = PyTuple_GET_ITEM(r->names, r->i++);
        if (!PyUnicode_CheckExact(n)) {
            PyErr_SetString(PyExc_TypeError, "an argument name is not a str");  /* (never a code object's) */
            return -1;
        }
#if PY_VERSION_HEX >= 0x030C0000
        PyObject *v = PyFrame_GetVar(r->frame, n);
        if (v == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_NameError)) {
                return -1;
            }
            PyErr_Clear();
            continue;
        }
#else
        PyObject *v = PyDict_GetItemWithError(r->loc, n);
        if (v == NULL) {
            if (PyErr_Occurred()) {
                return -1;
            }
            continue;
        }
        Py_INCREF(v);
#endif
        *name = n;
        *value = v;
        return 1;
    }
    return 0;
}

static void
args_close(ArgReader *r)
{
#if PY_VERSION_HEX < 0x030C0000
    Py_CLEAR(r->loc);
#else
    (void)r;
#endif
}

/* Recorder.summarise_args's bytes: orjson.dumps(args(frame, names)) */
static PyObject *
Sum_args_json(Sum *s, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyFrame_Check(args[0]) || !PyTuple_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "args_json(frame, names: tuple)");
        return NULL;
    }
    Buf b;
    if (buf_start(&b) < 0) {
        return NULL;
    }
    ArgReader reader;
    int r = APPEND_LIT(&b, "{");
    if (r == 0) {
        r = args_open(&reader, args[0], args[1]);
    }
    else {
        return json_bytes(&b, r);
    }
    int first = 1;
    PyObject *name, *v;
    while (r == 0) {
        int more = args_next(&reader, &name, &v);
        if (more <= 0) {
            r = more;
            break;
        }
        if (!first) {
            r = APPEND_LIT(&b, ",");
        }
        first = 0;
        if (r == 0) {
            r = put_str(&b, name);
        }
        if (r == 0) {
            r = APPEND_LIT(&b, ":");
        }
        if (r == 0) {
            r = put_summary_of(s, &b, v, name);
        }
        Py_DECREF(v);
    }
    args_close(&reader);
    if (r == 0) {
        r = APPEND_LIT(&b, "}");
    }
    return json_bytes(&b, r);
}

/* the JSON bytes of a shared summary (None, True, False) */
static PyObject *
json_of(PyObject *summary)
{
    Buf b;
    if (buf_start(&b) < 0) {
        return NULL;
    }
    return json_bytes(&b, put_value(&b, summary, 1));
}

/* -- methods --------------------------------------------------------------------------------------- */

static PyObject *
Sum_value(Sum *s, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "value(value, name=None)");
        return NULL;
    }
    return value_of(s, args[0], nargs == 2 ? args[1] : NULL);
}

/* Recorder.summarise_return: a secret-named callable's results are redacted (Summariser.secret_result) */
static PyObject *
Sum_result(Sum *s, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "result(index, value)");
        return NULL;
    }
    if (s->secret_codes != Py_None) {
        int secret = PySet_Contains(s->secret_codes, args[0]);
        if (secret < 0) {
            return NULL;
        }
        if (secret && !holds_no_data(args[1])) {
            return PyObject_CallOneArg(s->m_secret_result, args[1]);
        }
    }
    return value_of(s, args[1], NULL);
}

/* Recorder.summarise_args(frame, names): {name: summary} of the arguments bound in the frame */
static PyObject *
Sum_args(Sum *s, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyFrame_Check(args[0]) || !PyTuple_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "args(frame, names: tuple)");
        return NULL;
    }
    PyObject *out = PyDict_New();
    if (out == NULL) {
        return NULL;
    }
    ArgReader reader;
    if (args_open(&reader, args[0], args[1]) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    PyObject *name, *v;
    int more;
    while ((more = args_next(&reader, &name, &v)) > 0) {
        PyObject *summary = value_of(s, v, name);
        Py_DECREF(v);
        if (summary == NULL || PyDict_SetItem(out, name, summary) < 0) {
            Py_XDECREF(summary);
            more = -1;
            break;
        }
        Py_DECREF(summary);
    }
    args_close(&reader);
    if (more < 0) {
        Py_DECREF(out);
        return NULL;  /* (the Recorder records Skeleton's own error as a gap) */
    }
    return out;
}

/* gate_clean(text): the secret gate's answer for an exact str (tests: never True for a text the scan redacts) */
static PyObject *
Sum_gate_clean(Sum *s, PyObject *v)
{
    if (!PyUnicode_CheckExact(v)) {
        PyErr_SetString(PyExc_TypeError, "gate_clean(text: str)");
        return NULL;
    }
    return PyBool_FromLong(gate_clean(s, v));
}

static PyMethodDef Sum_methods[] = {
    {"gate_clean", (PyCFunction)Sum_gate_clean, METH_O,
     "gate_clean(text): True when text cannot hold a secret (the Python scan is skipped)"},
    {"value", (PyCFunction)(void (*)(void))Sum_value, METH_FASTCALL,
     "value(value, name=None): Summariser.value's summary"},
    {"result", (PyCFunction)(void (*)(void))Sum_result, METH_FASTCALL,
     "result(code index, value): Recorder.summarise_return"},
    {"args", (PyCFunction)(void (*)(void))Sum_args, METH_FASTCALL,
     "args(frame, names): Recorder.summarise_args"},
    {"result_json", (PyCFunction)(void (*)(void))Sum_result_json, METH_FASTCALL,
     "result_json(code index, value): orjson.dumps(result(...)); raises Unstorable where orjson would refuse"},
    {"args_json", (PyCFunction)(void (*)(void))Sum_args_json, METH_FASTCALL,
     "args_json(frame, names): orjson.dumps(args(...)); raises Unstorable where orjson would refuse"},
    {NULL, NULL, 0, NULL},
};

static int
Sum_traverse(Sum *s, visitproc visit, void *arg)
{
    Py_VISIT(s->py); Py_VISIT(s->levels); Py_VISIT(s->class_names); Py_VISIT(s->clean);
    Py_VISIT(s->clean_short); Py_VISIT(s->known_all); Py_VISIT(s->known); Py_VISIT(s->objects); Py_VISIT(s->overflow); Py_VISIT(s->secret_codes);
    Py_VISIT(s->none_s); Py_VISIT(s->true_s); Py_VISIT(s->false_s); Py_VISIT(s->f_dumps);
    Py_VISIT(s->m_summarise); Py_VISIT(s->m_redacted); Py_VISIT(s->m_secret_str); Py_VISIT(s->m_class_names_of);
    Py_VISIT(s->m_level); Py_VISIT(s->m_pair_level); Py_VISIT(s->m_secret_result); Py_VISIT(s->m_failed);
    Py_VISIT(s->f_private_key_head); Py_VISIT(s->f_foreign);
    return 0;
}

static int
Sum_clear(Sum *s)
{
    Py_CLEAR(s->py); Py_CLEAR(s->levels); Py_CLEAR(s->class_names); Py_CLEAR(s->clean);
    Py_CLEAR(s->clean_short); Py_CLEAR(s->known_all); Py_CLEAR(s->known); Py_CLEAR(s->objects); Py_CLEAR(s->overflow); Py_CLEAR(s->secret_codes);
    Py_CLEAR(s->none_s); Py_CLEAR(s->true_s); Py_CLEAR(s->false_s);
    Py_CLEAR(s->none_j); Py_CLEAR(s->true_j); Py_CLEAR(s->false_j); Py_CLEAR(s->f_dumps);
    Py_CLEAR(s->m_summarise); Py_CLEAR(s->m_redacted); Py_CLEAR(s->m_secret_str); Py_CLEAR(s->m_class_names_of);
    Py_CLEAR(s->m_level); Py_CLEAR(s->m_pair_level); Py_CLEAR(s->m_secret_result); Py_CLEAR(s->m_failed);
    Py_CLEAR(s->f_private_key_head); Py_CLEAR(s->f_foreign);
    return 0;
}

static void
Sum_dealloc(Sum *s)
{
    PyObject_GC_UnTrack(s);
    Sum_clear(s);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static int
get_size(PyObject *module, const char *name, Py_ssize_t *out)
{
    PyObject *v = PyObject_GetAttrString(module, name);
    if (v == NULL) {
        return -1;
    }
    *out = PyLong_AsSsize_t(v);
    Py_DECREF(v);
    return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

static int
get(PyObject **slot, PyObject *obj, const char *name)
{
    *slot = PyObject_GetAttrString(obj, name);
    return *slot == NULL ? -1 : 0;
}

/* the secret gate's tables from redact.py's _BY_TRIGGER (one definition of the triggers); a trigger that does not
 * fit (not lower-case ASCII, too long, too many) turns the gate off: every str is scanned as before */
static int
load_triggers(Sum *s)
{
    s->gate_ok = 0;
    s->n_trig = 0;
    memset(s->by_first, 0, sizeof(s->by_first));
    PyObject *redact = PyImport_ImportModule("skeleton_replay.capture.redact");
    if (redact == NULL) {
        return -1;
    }
    PyObject *table = PyObject_GetAttrString(redact, "_BY_TRIGGER");
    Py_DECREF(redact);
    if (table == NULL) {
        return -1;
    }
    int ok = PyDict_CheckExact(table) && PyDict_GET_SIZE(table) > 0 && PyDict_GET_SIZE(table) <= MAX_TRIGGERS;
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (ok && PyDict_Next(table, &pos, &key, &value)) {
        Py_ssize_t len;
        const char *t = PyUnicode_CheckExact(key) && PyUnicode_IS_ASCII(key) ? PyUnicode_AsUTF8AndSize(key, &len) : NULL;
        if (t == NULL || len < 1 || len >= MAX_TRIGGER_LEN) {
            PyErr_Clear();
            ok = 0;
            break;
        }
        for (Py_ssize_t k = 0; k < len; k++) {
            if (t[k] >= 'A' && t[k] <= 'Z') {
                ok = 0;  /* the triggers are searched in the lower-cased text */
            }
        }
        int j = s->n_trig++;
        memcpy(s->trig[j], t, (size_t)len);
        s->trig_len[j] = (unsigned char)len;
        s->by_first[(unsigned char)t[0]] |= 1ULL << j;
    }
    Py_DECREF(table);
    s->gate_ok = ok;
    return 0;
}

/* redact.py: a str/bytes shorter than KNOWN_MIN is not remembered, nor searched for PRIVATE_KEY_MARK's lines */
static int
learn_min(Py_ssize_t *out)
{
    PyObject *redact = PyImport_ImportModule("skeleton_replay.capture.redact");
    PyObject *mark = redact ? PyObject_GetAttrString(redact, "PRIVATE_KEY_MARK") : NULL;
    int err = mark == NULL || !PyUnicode_Check(mark) || get_size(redact, "KNOWN_MIN", out);
    if (!err && PyUnicode_GET_LENGTH(mark) < *out) {
        *out = PyUnicode_GET_LENGTH(mark);
    }
    if (mark != NULL && !PyUnicode_Check(mark)) {
        PyErr_SetString(PyExc_TypeError, "PRIVATE_KEY_MARK is not a str");
    }
    Py_XDECREF(mark);
    Py_XDECREF(redact);
    return err;
}

static int
Sum_init(Sum *s, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"summariser", "objects", "secret_codes", "overflow", NULL};
    PyObject *py, *objects = Py_None, *secret_codes = Py_None, *overflow = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|OOO:Summariser", kwlist, &py, &objects, &secret_codes,
                                     &overflow)) {
        return -1;
    }
    if ((objects == Py_None) != (overflow == Py_None)) {
        PyErr_SetString(PyExc_TypeError, "objects and overflow: both or neither");
        return -1;
    }
    if ((objects != Py_None && (!PyDict_CheckExact(objects) || !PyDict_CheckExact(overflow))) ||
            (secret_codes != Py_None && !PyAnySet_CheckExact(secret_codes))) {
        PyErr_SetString(PyExc_TypeError, "objects: a dict or None; secret_codes: a set or None");
        return -1;
    }
    Sum_clear(s);
    s->py = Py_NewRef(py);
    s->objects = Py_NewRef(objects);
    s->overflow = Py_NewRef(overflow);
    s->secret_codes = Py_NewRef(secret_codes);
    PyObject *mod = PyImport_ImportModule("skeleton_replay.capture.summarise");
    PyObject *origin = mod ? PyImport_ImportModule("skeleton_replay.capture.origin") : NULL;
    PyObject *no_extra = NULL;
    int err = origin == NULL ||
        get(&s->levels, py, "_levels") || get(&s->class_names, py, "_class_names") || get(&s->clean, py, "_clean") ||
        get(&s->clean_short, py, "_clean_short") || get(&s->known, py, "known") ||
        get(&s->none_s, mod, "_NONE") || get(&s->true_s, mod, "_TRUE") || get(&s->false_s, mod, "_FALSE") ||
        get(&s->m_summarise, py, "_summarise") || get(&s->m_redacted, py, "redacted") ||
        get(&s->m_secret_str, py, "_secret_str") || get(&s->m_class_names_of, py, "_class_names_of") ||
        get(&s->m_pair_level, py, "_pair_name_level") || get(&s->m_secret_result, py, "secret_result") ||
        get(&s->m_failed, py, "_failed") || get(&s->f_private_key_head, mod, "_private_key_head") ||
        get(&s->f_foreign, origin, "foreign") || get(&no_extra, py, "_no_extra") ||
        get_size(mod, "STR_LIMIT", &s->str_limit) || get_size(mod, "STR_WINDOW", &s->str_window) ||
        get_size(mod, "CLEAN_MIN", &s->clean_min) || get_size(mod, "SHORTEST_SECRET", &s->shortest) ||
        get_size(mod, "ITEMS_LIMIT", &s->items_limit) || get_size(mod, "DEPTH_LIMIT", &s->depth_limit) ||
        learn_min(&s->learn_min);
    if (!err) {
        PyObject *names = PyObject_GetAttrString(py, "names");
        err = names == NULL || get(&s->m_level, names, "level");
        Py_XDECREF(names);
    }
    if (!err) {  /* orjson.dumps for floats; without orjson, put_double (the same bytes, slower) */
        PyObject *orjson = PyImport_ImportModule("orjson");
        s->f_dumps = orjson != NULL ? PyObject_GetAttrString(orjson, "dumps") : NULL;
        Py_XDECREF(orjson);
        if (s->f_dumps == NULL) {
            PyErr_Clear();
        }
        err = (s->none_j = json_of(s->none_s)) == NULL || (s->true_j = json_of(s->true_s)) == NULL ||
              (s->false_j = json_of(s->false_s)) == NULL;
    }
    if (!err) {
        s->no_extra = PyObject_IsTrue(no_extra);
        err = s->no_extra < 0;
    }
    if (!err && (!PyDict_CheckExact(s->levels) || !PyDict_CheckExact(s->class_names) ||
                 !PyDict_CheckExact(s->clean) || !PyDict_CheckExact(s->clean_short))) {
        PyErr_SetString(PyExc_TypeError, "not a Summariser");
        err = 1;
    }
    if (!err) {
        err = get(&s->known_all, s->known, "_all") || load_triggers(s);
        if (!err && !PyDict_CheckExact(s->known_all)) {
            PyErr_SetString(PyExc_TypeError, "KnownSecrets._all is not a dict");
            err = 1;
        }
    }
    Py_XDECREF(no_extra);
    Py_XDECREF(mod);
    Py_XDECREF(origin);
    return err ? -1 : 0;
}

static PyTypeObject SumType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "skeleton_replay.capture._summarise.Summariser",
    .tp_basicsize = sizeof(Sum),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Summariser(summariser, objects=None, secret_codes=None, overflow=None): summarise.py's rules in C",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Sum_init,
    .tp_dealloc = (destructor)Sum_dealloc,
    .tp_traverse = (traverseproc)Sum_traverse,
    .tp_clear = (inquiry)Sum_clear,
    .tp_methods = Sum_methods,
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_summarise", "Summaries of builtin values in C (the twin of summarise.py)", -1, NULL,
};

#define INTERN(var, text) if ((var = PyUnicode_InternFromString(text)) == NULL) return NULL

PyMODINIT_FUNC
PyInit__summarise(void)
{
    INTERN(s_type, "type"); INTERN(s_value, "value"); INTERN(s_len, "len"); INTERN(s_truncated, "truncated");
    INTERN(s_items, "items"); INTERN(s_entries, "entries"); INTERN(s_id, "id"); INTERN(s_redacted, "redacted");
    INTERN(s_int, "int"); INTERN(s_float, "float"); INTERN(s_str, "str"); INTERN(s_dict, "dict");
    INTERN(s_list, "list"); INTERN(s_tuple, "tuple"); INTERN(s_set, "set"); INTERN(s_frozenset, "frozenset");
    INTERN(s_version, "version"); INTERN(s_clean_version, "_clean_version"); INTERN(s_object_id, "_object_id");
    INTERN(s_module, "__module__"); INTERN(s_type_name, "type");
    PyObject *collections = PyImport_ImportModule("collections");
    if (collections == NULL) {
        return NULL;
    }
    deque_type = (PyTypeObject *)PyObject_GetAttrString(collections, "deque");  /* kept for the process */
    Py_DECREF(collections);
    if (deque_type == NULL) {
        return NULL;
    }
    if (Unstorable == NULL) {  /* args_json/result_json: a summary orjson would refuse (kept for the process) */
        Unstorable = PyErr_NewException("skeleton_replay.capture._summarise.Unstorable", NULL, NULL);
        if (Unstorable == NULL) {
            return NULL;
        }
    }
    if (PyType_Ready(&SumType) < 0 || PyDict_SetItemString(SumType.tp_dict, "Unstorable", Unstorable) < 0) {
        return NULL;
    }
    PyType_Modified(&SumType);
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(m, "Summariser", (PyObject *)&SumType) < 0 ||
            PyModule_AddObjectRef(m, "Unstorable", Unstorable) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
