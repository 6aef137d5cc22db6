/* trace.jsonl lines in C (skeleton_replay.events.jsonl.TraceWriter, issue 16).
 *
 * write_batch(events, write, endpoints, endpoint_json, line, version[, cache]) -> lines written
 * cache() -> the endpoint cache of one writer (its endpoints' JSON by Endpoint identity, kept across batches)
 *
 * Formats the recorded events (order >= 0) of a batch of Event tuples as JSON lines into one
 * buffer and hands it to `write` (the file's write method) in chunks of about 1 MiB. The bytes
 * are the pure-Python twin's (jsonl.py: a dict per event through orjson.dumps), key for key:
 *   - endpoints: a dict node_id -> the endpoint's JSON (bytes); a miss calls endpoint_json(ep),
 *     which returns those bytes (and stores them in the dict);
 *   - timestamps and other floats as orjson writes them (the shortest round-trip digits; plain
 *     notation for decimal exponents -5..15, else 1e-7 / 1.5e+16; nan and inf as null);
 *   - the detail: JSON bytes (a recording's summary, made at capture: capture/recorder.as_json) copied as
 *     they are, as orjson.Fragment writes them; else a value (dict / list / tuple / str / int / float / bool /
 *     None, as read back from trace.jsonl) encoded as orjson does (escapes: " \ \b \t \n \f \r, other controls as \u00XX; non-ASCII as UTF-8).
 * Whatever else an event holds (another type, a str subclass, a non-str key, a lone surrogate, an
 * int outside orjson's 64-bit range, deep nesting, a malformed event) is handed whole to line(e),
 * the Python twin's own line (bytes, or None for an event it skips): the same bytes, or the same
 * exception. Never calls user code (exact type checks only; endpoint_json and line are ours).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#include "../_jsonfmt.h"
#include "../_spread.h"

#define CHUNK (1 << 20)  /* write when the buffer holds this much */

static PyObject *str_node_id;  /* "node_id", interned */

static int
put_timestamp(Buf *b, PyObject *t_ns)
{
    int overflow;
    long long t = PyLong_AsLongLongAndOverflow(t_ns, &overflow);
    if (t == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow == 0 && t >= 0 && t < 8000000000000000LL) {
        if (t == 0) {
            return APPEND_LIT(b, "0.0");
        }
        char tmp[24];
        int n = (int)(write_u64(tmp, (unsigned long long)t) - tmp); /* two digits a step */
        int point = n - 9;
        while (tmp[n - 1] == '0') {
            n--;
        }
        return put_digits(b, 0, tmp, n, point);
    }
    static PyObject *billion = NULL;  /* the general case: Python's own int / float */
    if (billion == NULL && (billion = PyFloat_FromDouble(1e9)) == NULL) {
        return -1;
    }
    PyObject *q = PyNumber_TrueDivide(t_ns, billion);
    if (q == NULL) {
        return -1;
    }
    double v = PyFloat_AsDouble(q);
    Py_DECREF(q);
    if (v == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    return put_double(b, v);
}

/* ---------------------------------------------------------------- events */

/* Endpoints met lately, by identity (an Endpoint is frozen: its JSON never changes); a strong
 * reference to each, so an address cannot be reused while it is here. The cache lives as long as its
 * TraceWriter (cache(): a capsule passed to every write_batch of one file), so each batch does not look
 * every endpoint up again; it is only valid with that writer's endpoints dict and endpoint_json. */
#define SLOT_BITS 14
#define SLOTS (1 << SLOT_BITS)
typedef struct {
    PyObject *ep, *js;
} Slot;

typedef struct {
    PyObject *endpoints, *endpoint_json; /* borrowed, for one write_batch call */
    Slot slots[SLOTS];
} Endpoints;

#define CACHE_NAME "skeleton_replay.events._jsonw.cache"

static void
clear_slots(Endpoints *c)
{
    for (int i = 0; i < SLOTS; i++) {
        Py_CLEAR(c->slots[i].ep);
        Py_CLEAR(c->slots[i].js);
    }
}

static void
cache_free(PyObject *capsule)
{
    Endpoints *c = PyCapsule_GetPointer(capsule, CACHE_NAME);
    if (c != NULL) {
        clear_slots(c);
        PyMem_Free(c);
    }
}

/* cache() -> an endpoint cache for the write_batch calls of one writer */
static PyObject *
new_cache(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    Endpoints *c = PyMem_Calloc(1, sizeof(Endpoints));
    if (c == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *capsule = PyCapsule_New(c, CACHE_NAME, cache_free);
    if (capsule == NULL) {
        PyMem_Free(c);
    }
    return capsule;
}

/* The endpoint's JSON (borrowed: the cache holds it): endpoints[ep.node_id], or endpoint_json(ep) on a miss.
 * NULL with no exception (BAIL) when ep has no node_id; NULL with one on error. */
static PyObject *
endpoint_bytes(PyObject *ep, Endpoints *c)
{
    uintptr_t h = (uintptr_t)ep;
    Slot *slot = &c->slots[sk_spread(h, SLOT_BITS)];
    if (slot->ep != ep) {
        PyObject *node_id = PyObject_GetAttr(ep, str_node_id);
        if (node_id == NULL) {
            if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
                PyErr_Clear();
            }
            return NULL;
        }
        PyObject *js = PyUnicode_CheckExact(node_id) ? PyDict_GetItemWithError(c->endpoints, node_id) : NULL;
        Py_DECREF(node_id);
        if (js != NULL) {
            Py_INCREF(js);
        }
        else {
            if (PyErr_Occurred()) {
                return NULL;
            }
            js = PyObject_CallOneArg(c->endpoint_json, ep);
            if (js == NULL) {
                return NULL;
            }
        }
        if (!PyBytes_CheckExact(js)) {
            Py_DECREF(js);
            PyErr_SetString(PyExc_TypeError, "endpoint_json must return bytes");
            return NULL;
        }
        Py_INCREF(ep);
        Py_XSETREF(slot->ep, ep);
        Py_XSETREF(slot->js, js);
    }
    return slot->js;
}

#define MAX_INT_TEXT 21 /* "-9223372036854775808" and "18446744073709551615" are 20 */

static const char *const DETAIL_KEY[] = {
    ",\"args\":", ",\"return_value\":", ",\"exception\":", ",\"value\":", ",\"exception\":",
};
static const char *const EVENT_TYPE[] = {"call", "return", "return", "yield", "resume"};

typedef struct {
    char text[80];
    Py_ssize_t len;
} Head;

/* An exact int (checked by the caller) as a long long: 1, or 0 when it does not fit. Ints of one digit (below
 * 2**30: call ids, depths, threads, most durations) are read without a call. */
static inline int
exact_value(PyObject *o, long long *out)
{
#if PY_VERSION_HEX >= 0x030C0000
    if (PyUnstable_Long_IsCompact((PyLongObject *)o)) {
        *out = (long long)PyUnstable_Long_CompactValue((PyLongObject *)o);
        return 1;
    }
#else
    Py_ssize_t size = Py_SIZE(o);
    if (size >= -1 && size <= 1) {
        *out = (long long)size * (long long)((PyLongObject *)o)->ob_digit[0];
        return 1;
    }
#endif
    int overflow;
    *out = PyLong_AsLongLongAndOverflow(o, &overflow);
    return overflow == 0;  /* (no error is possible for an exact int) */
}

/* 1: an exact int in long long's range, 0: not */
static inline int
exact_int(PyObject *o, long long *out)
{
    return PyLong_CheckExact(o) && exact_value(o, out);
}

static inline char *
write_lit(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

#define WRITE_LIT(o, lit) write_lit((o), (lit), sizeof(lit) - 1)

static inline char *
write_i64(char *o, long long v)
{
    if (v < 0) {
        *o++ = '-';
        return write_u64(o, (unsigned long long)0 - (unsigned long long)v);
    }
    return write_u64(o, (unsigned long long)v);
}

/* The rest of a line after "callee": thread_name, scenario, the detail or summary_skipped, duration_ns. */
static int
put_event_tail(Buf *b, PyObject **f, long long kind, int ended, long long ns, int ns_fits)
{
    int r;
    if (f[10] != Py_None) {
        if ((r = APPEND_LIT(b, ",\"thread_name\":")) != 0 || (r = put_value(b, f[10], MAX_DEPTH)) != 0) {
            return r;
        }
    }
    if (f[12] != Py_None) {
        if ((r = APPEND_LIT(b, ",\"scenario\":")) != 0 || (r = put_value(b, f[12], MAX_DEPTH)) != 0) {
            return r;
        }
    }
    if (f[8] != Py_None) {
        const char *key = DETAIL_KEY[kind];
        if ((r = append(b, key, (Py_ssize_t)strlen(key))) != 0) {
            return r;
        }
        if (PyBytes_CheckExact(f[8])) { /* a recording's summary: its JSON, made at capture, copied as is */
            if (append(b, PyBytes_AS_STRING(f[8]), PyBytes_GET_SIZE(f[8])) < 0) {
                return -1;
            }
        }
        else if ((r = put_value(b, f[8], 1)) != 0) {
            return r;
        }
    }
    else if (f[9] == Py_True && APPEND_LIT(b, ",\"summary_skipped\":true") < 0) {
        return -1;
    }
    if (ended && !ns_fits) {
        if ((r = APPEND_LIT(b, ",\"duration_ns\":")) != 0 || (r = put_int(b, f[11])) != 0) {
            return r;
        }
    }
    else if (ended) {
        if (reserve(b, 16 + MAX_INT_TEXT + 1) < 0) {
            return -1;
        }
        char *o = WRITE_LIT(b->p + b->len, ",\"duration_ns\":");
        o = write_i64(o, ns);
        *o++ = '}';
        b->len = o - b->p;
        return 0;
    }
    return APPEND_LIT(b, "}");
}

/* put_event for a line with an int past long long: each int as orjson writes it (or BAIL). */
static int
put_event_slow(Buf *b, PyObject *e, PyObject **f, const Head *heads, long long kind, long long order,
               PyObject *caller, PyObject *callee)
{
    (void)e;
    int r, ended = kind == 1 || kind == 2;
    const Head *h = &heads[kind];
    if (reserve(b, h->len + 32) < 0) {
        return -1;
    }
    char *o = write_lit(b->p + b->len, h->text, (size_t)h->len);
    o = write_i64(o, order);
    o = WRITE_LIT(o, ",\"call_id\":");
    if (f[2] == Py_None) {
        o = WRITE_LIT(o, "null");
    }
    b->len = o - b->p;
    if (f[2] != Py_None && (r = put_int(b, f[2])) != 0) {
        return r;
    }
    if ((r = APPEND_LIT(b, ",\"timestamp\":")) != 0 || (r = put_timestamp(b, f[3])) != 0
        || (r = APPEND_LIT(b, ",\"depth\":")) != 0 || (r = put_int(b, f[4])) != 0
        || (r = APPEND_LIT(b, ",\"thread\":")) != 0 || (r = put_int(b, f[5])) != 0
        || (r = APPEND_LIT(b, ",\"caller\":")) != 0) {
        return r;
    }
    if ((r = caller == NULL ? APPEND_LIT(b, "null") : append(b, PyBytes_AS_STRING(caller), PyBytes_GET_SIZE(caller)))
            != 0
        || (r = APPEND_LIT(b, ",\"callee\":")) != 0
        || (r = append(b, PyBytes_AS_STRING(callee), PyBytes_GET_SIZE(callee))) != 0) {
        return r;
    }
    return put_event_tail(b, f, kind, ended, 0, 0);
}

static int put_event_fast(Buf *b, PyObject **f, const Head *h, long long kind, int ended, long long order,
                          long long call_id, long long depth, long long thread, long long ns, PyObject *caller,
                          PyObject *callee);

/* One event's line (without the newline); BAIL for anything the Python twin must write. The fixed parts, the
 * ints in long long's range and the endpoints' JSON go in after one reservation. */
static int
put_event(Buf *b, PyObject *e, const Head *heads, Endpoints *c, int *skip)
{
    *skip = 0;
    if (!PyTuple_Check(e) || PyTuple_GET_SIZE(e) != 13) {
        return BAIL;
    }
    PyObject **f = ((PyTupleObject *)e)->ob_item;
    long long order, kind;
    int r;
    if (!exact_int(f[0], &order)) {
        return BAIL;
    }
    if (order < 0) {
        *skip = 1;
        return 0;
    }
    if (!exact_int(f[1], &kind)) {
        return BAIL;
    }
    int ended = kind == 1 || kind == 2;
    if (kind < 0 || kind > 4 || (f[2] != Py_None && !PyLong_CheckExact(f[2])) || !PyLong_CheckExact(f[3])
        || !PyLong_CheckExact(f[4]) || !PyLong_CheckExact(f[5]) || (f[9] != Py_True && f[9] != Py_False)
        || (ended && !PyLong_CheckExact(f[11]))) {
        return BAIL;
    }
    long long call_id = 0, depth, thread, ns = 0;
    int fits = (f[2] == Py_None || exact_value(f[2], &call_id)) && exact_value(f[4], &depth)
               && exact_value(f[5], &thread) && (!ended || exact_value(f[11], &ns));
    PyObject *caller = f[6] == Py_None ? NULL : Py_XNewRef(endpoint_bytes(f[6], c)); /* (callee's may evict it) */
    if (f[6] != Py_None && caller == NULL) {
        return PyErr_Occurred() ? -1 : BAIL;
    }
    PyObject *callee = endpoint_bytes(f[7], c);
    if (callee == NULL) {
        Py_XDECREF(caller);
        return PyErr_Occurred() ? -1 : BAIL;
    }
    r = fits ? put_event_fast(b, f, &heads[kind], kind, ended, order, call_id, depth, thread, ns, caller, callee)
             : put_event_slow(b, e, f, heads, kind, order, caller, callee); /* an int past long long (a hand-made
                                                                               trace): as orjson writes it */
    Py_XDECREF(caller);
    return r;
}

static int
put_event_fast(Buf *b, PyObject **f, const Head *h, long long kind, int ended, long long order, long long call_id,
               long long depth, long long thread, long long ns, PyObject *caller, PyObject *callee)
{
    int r;
    Py_ssize_t fixed = h->len + 4 * MAX_INT_TEXT + 160 + (caller ? PyBytes_GET_SIZE(caller) : 4)
                       + PyBytes_GET_SIZE(callee);
    if (reserve(b, fixed) < 0) {
        return -1;
    }
    char *o = write_lit(b->p + b->len, h->text, (size_t)h->len);
    o = write_i64(o, order);
    o = WRITE_LIT(o, ",\"call_id\":");
    o = f[2] == Py_None ? WRITE_LIT(o, "null") : write_i64(o, call_id);
    o = WRITE_LIT(o, ",\"timestamp\":");
    b->len = o - b->p;
    if ((r = put_timestamp(b, f[3])) != 0) {
        return r;
    }
    if (reserve(b, fixed) < 0) { /* (put_timestamp's digits came out of the reservation) */
        return -1;
    }
    o = WRITE_LIT(b->p + b->len, ",\"depth\":");
    o = write_i64(o, depth);
    o = WRITE_LIT(o, ",\"thread\":");
    o = write_i64(o, thread);
    o = WRITE_LIT(o, ",\"caller\":");
    o = caller ? write_lit(o, PyBytes_AS_STRING(caller), (size_t)PyBytes_GET_SIZE(caller)) : WRITE_LIT(o, "null");
    o = WRITE_LIT(o, ",\"callee\":");
    o = write_lit(o, PyBytes_AS_STRING(callee), (size_t)PyBytes_GET_SIZE(callee));
    b->len = o - b->p;
    return put_event_tail(b, f, kind, ended, ns, 1);
}

/* write(memoryview of the buffer), the view released afterwards. Should write keep the view (ours does
 * not), the buffer is left to it: never freed, never written again. */
static int
flush(Buf *b, PyObject *write)
{
    if (b->len == 0) {
        return 0;
    }
    PyObject *view = PyMemoryView_FromMemory(b->p, b->len, PyBUF_READ);
    if (view == NULL) {
        return -1;
    }
    PyObject *res = PyObject_CallOneArg(write, view);
    if (res == NULL) {
        if (Py_REFCNT(view) > 1) {  /* kept, and an exception is set: give the buffer up */
            b->p = NULL;
            b->len = b->cap = 0;
        }
        Py_DECREF(view);
        return -1;
    }
    Py_DECREF(res);
    PyObject *rel = PyObject_CallMethod(view, "release", NULL);
    Py_DECREF(view);
    if (rel == NULL) {  /* exported further (BufferError): give the buffer up */
        b->p = NULL;
        b->len = b->cap = 0;
        return -1;
    }
    Py_DECREF(rel);
    b->len = 0;
    return 0;
}

static PyObject *
write_batch(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6 && nargs != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "write_batch(events, write, endpoints, endpoint_json, line, version[, cache])");
        return NULL;
    }
    PyObject *events = args[0], *write = args[1], *endpoints = args[2], *endpoint_json = args[3], *line = args[4];
    if (!PyList_Check(events) || !PyDict_Check(endpoints)) {
        PyErr_SetString(PyExc_TypeError, "write_batch: events must be a list, endpoints a dict");
        return NULL;
    }
    long version = PyLong_AsLong(args[5]);
    if (version == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Head heads[5];
    for (int k = 0; k < 5; k++) {
        heads[k].len = snprintf(heads[k].text, sizeof(heads[k].text),
                                "{\"schema_version\":%ld,\"event_type\":\"%s\",\"order\":", version, EVENT_TYPE[k]);
    }
    Endpoints *c = NULL;
    int own = nargs == 6; /* no cache of the writer's: one for this call */
    if (own) {
        c = PyMem_Calloc(1, sizeof(Endpoints));
        if (c == NULL) {
            return PyErr_NoMemory();
        }
    }
    else if ((c = PyCapsule_GetPointer(args[6], CACHE_NAME)) == NULL) {
        return NULL;
    }
    c->endpoints = endpoints;
    c->endpoint_json = endpoint_json;
    Buf b = {NULL, 0, 0};
    Py_ssize_t lines = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(events); i++) {
        PyObject *e = PyList_GET_ITEM(events, i);
        Py_INCREF(e);  /* line(e) and endpoint_json(ep) run Python code */
        Py_ssize_t start = b.len;
        int skip;
        int r = put_event(&b, e, heads, c, &skip);
        if (r == BAIL) {
            b.len = start;
            PyObject *text = PyObject_CallOneArg(line, e);
            if (text == NULL) {
                r = -1;
            }
            else if (text == Py_None) {
                skip = 1;
                r = 0;
            }
            else if (!PyBytes_Check(text)) {
                PyErr_SetString(PyExc_TypeError, "line must return bytes or None");
                r = -1;
            }
            else {
                skip = 0;
                r = append(&b, PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text));
            }
            Py_XDECREF(text);
        }
        Py_DECREF(e);
        if (r < 0) {
            goto error;
        }
        if (!skip) {
            if (APPEND_LIT(&b, "\n") < 0) {
                goto error;
            }
            lines++;
            if (b.len >= CHUNK && flush(&b, write) < 0) {
                goto error;
            }
        }
    }
    if (flush(&b, write) < 0) {
        goto error;
    }
    if (own) {
        clear_slots(c);
        PyMem_Free(c);
    }
    PyMem_Free(b.p);
    return PyLong_FromSsize_t(lines);
error:
    if (own) {
        clear_slots(c);
        PyMem_Free(c);
    }
    PyMem_Free(b.p);
    return NULL;
}

/* cache[id(ep)], else endpoint_json(ep) stored there: the endpoint's JSON bytes (borrowed from the cache); NULL
   with an error set, or with none for a result that is not bytes (the Python path writes it). */
static PyObject *
counted_endpoint(PyObject *cache, PyObject *endpoint_json, PyObject *ep)
{
    PyObject *key = PyLong_FromVoidPtr(ep);
    if (key == NULL) {
        return NULL;
    }
    PyObject *js = PyDict_GetItemWithError(cache, key);
    if (js == NULL && !PyErr_Occurred()) {
        PyObject *made = PyObject_CallOneArg(endpoint_json, ep);
        if (made != NULL && PyBytes_CheckExact(made) && PyDict_SetItem(cache, key, made) == 0) {
            js = made;  /* the cache holds it now */
        }
        Py_XDECREF(made);
    }
    Py_DECREF(key);
    return js != NULL && PyBytes_CheckExact(js) ? js : NULL;
}

/* counted_json(rows, start, stop, cache, endpoint_json) -> bytes, or None
   The end record's counted entries of rows[start:stop] (events/write_trace.py end_record: (caller or None,
   callee, calls, raised, scenario or None) each) as orjson writes the list of their dicts, without its brackets:
   {"caller":<endpoint>|null,"callee":<endpoint>,"calls":N,"raised":R[,"scenario":"..."]},{...}. An endpoint's
   JSON is endpoint_json(ep), kept in `cache` (a dict: id(ep) -> bytes; the rows keep the endpoints alive).
   None when a row is not of that shape or holds what orjson writes otherwise (an int past 64 bits, a lone
   surrogate): the Python path makes the dicts. */
static PyObject *
counted_json(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyList_CheckExact(args[0]) || !PyDict_CheckExact(args[3])) {
        PyErr_SetString(PyExc_TypeError, "counted_json(rows, start, stop, cache, endpoint_json): a list and a dict");
        return NULL;
    }
    PyObject *rows = args[0], *cache = args[3], *endpoint_json = args[4];
    Py_ssize_t start = PyLong_AsSsize_t(args[1]), stop = PyLong_AsSsize_t(args[2]);
    if ((start == -1 || stop == -1) && PyErr_Occurred()) {
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(rows);
    start = start < 0 ? 0 : start > n ? n : start;
    stop = stop < start ? start : stop > n ? n : stop;
    Buf b = {NULL, 0, 0};
    int r = 0;
    for (Py_ssize_t i = start; i < stop && r == 0; i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        if (!PyTuple_CheckExact(row) || PyTuple_GET_SIZE(row) != 5 || !PyLong_CheckExact(PyTuple_GET_ITEM(row, 2))
                || !PyLong_CheckExact(PyTuple_GET_ITEM(row, 3))) {
            r = BAIL;
            break;
        }
        Py_INCREF(row);  /* (endpoint_json is Python: the list could change under us) */
        PyObject *caller = PyTuple_GET_ITEM(row, 0), *callee = PyTuple_GET_ITEM(row, 1);
        PyObject *scen = PyTuple_GET_ITEM(row, 4);
        PyObject *a = caller == Py_None ? NULL : counted_endpoint(cache, endpoint_json, caller);
        PyObject *c = a == NULL && caller != Py_None ? NULL : counted_endpoint(cache, endpoint_json, callee);
        if (c == NULL || (scen != Py_None && !PyUnicode_CheckExact(scen))) {
            r = PyErr_Occurred() ? -1 : BAIL;
        }
        else {
            Py_INCREF(c);
            Py_XINCREF(a);
            r = (i > start ? APPEND_LIT(&b, ",") : 0) < 0 || APPEND_LIT(&b, "{\"caller\":") < 0
                || (a != NULL ? append(&b, PyBytes_AS_STRING(a), PyBytes_GET_SIZE(a)) : APPEND_LIT(&b, "null")) < 0
                || APPEND_LIT(&b, ",\"callee\":") < 0 || append(&b, PyBytes_AS_STRING(c), PyBytes_GET_SIZE(c)) < 0
                || APPEND_LIT(&b, ",\"calls\":") < 0 ? -1 : 0;
            if (r == 0) {
                r = put_int(&b, PyTuple_GET_ITEM(row, 2));
            }
            if (r == 0) {
                r = APPEND_LIT(&b, ",\"raised\":") < 0 ? -1 : put_int(&b, PyTuple_GET_ITEM(row, 3));
            }
            if (r == 0 && scen != Py_None) {
                r = APPEND_LIT(&b, ",\"scenario\":") < 0 ? -1 : put_str(&b, scen);
            }
            if (r == 0) {
                r = APPEND_LIT(&b, "}") < 0 ? -1 : 0;
            }
            Py_DECREF(c);
            Py_XDECREF(a);
        }
        Py_DECREF(row);
    }
    PyObject *out = r == 0 ? PyBytes_FromStringAndSize(b.p ? b.p : "", b.len) : NULL;
    PyMem_Free(b.p);
    if (r == BAIL) {
        Py_RETURN_NONE;
    }
    return out;
}

/* encode(value) -> bytes: a detail as write_batch encodes it; None where the Python twin would (tests). */
static PyObject *
encode(PyObject *module, PyObject *value)
{
    Buf b = {NULL, 0, 0};
    int r = put_value(&b, value, 1);
    PyObject *out = r == 0 ? PyBytes_FromStringAndSize(b.p ? b.p : "", b.len) : NULL;
    PyMem_Free(b.p);
    if (r == BAIL) {
        Py_RETURN_NONE;
    }
    return out;
}

/* timestamp(t_ns) -> bytes: t_ns / 1e9 as write_batch writes it (tests). */
static PyObject *
timestamp(PyObject *module, PyObject *t_ns)
{
    if (!PyLong_CheckExact(t_ns)) {
        PyErr_SetString(PyExc_TypeError, "timestamp: t_ns must be an int");
        return NULL;
    }
    Buf b = {NULL, 0, 0};
    PyObject *out = put_timestamp(&b, t_ns) == 0 ? PyBytes_FromStringAndSize(b.p, b.len) : NULL;
    PyMem_Free(b.p);
    return out;
}

static PyMethodDef methods[] = {
    {"write_batch", (PyCFunction)(void (*)(void))write_batch, METH_FASTCALL,
     "write_batch(events, write, endpoints, endpoint_json, line, version[, cache]) -> lines written"},
    {"cache", new_cache, METH_NOARGS,
     "cache() -> an endpoint cache for every write_batch of one writer (same endpoints and endpoint_json)"},
    {"encode", encode, METH_O, "encode(value) -> bytes (or None: the Python twin's case)"},
    {"counted_json", (PyCFunction)(void (*)(void))counted_json, METH_FASTCALL,
     "counted_json(rows, start, stop, cache, endpoint_json) -> bytes (or None): end-record counted entries"},
    {"timestamp", timestamp, METH_O, "timestamp(t_ns) -> bytes"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_jsonw", "trace.jsonl lines in C (events/jsonl.py).", -1, methods,
};

PyMODINIT_FUNC
PyInit__jsonw(void)
{
    if (str_node_id == NULL && (str_node_id = PyUnicode_InternFromString("node_id")) == NULL) {
        return NULL;
    }
    return PyModule_Create(&module);
}
