/* The decoder's loop over one spill chunk in C (events/decode.py, issue 16).
 *
 * decode_chunk(decoder, chunk, out) is Decoder._chunk: the same loop over the SAME Python state of the
 * Decoder (its per-thread stacks of frame lists, parked generator frames, endpoint cache, counters, event
 * cap, scenario), appending the same Event tuples to the list `out`. It keeps nothing of its own between
 * two chunks, so the Python loop can take over at any chunk and back. Every rare case calls back into the
 * Decoder's Python methods: records that are no events (_meta: definitions, scenarios, boundaries,
 * creations), an endpoint not yet cached (endpoint), the caller of an edge's first counted call
 * (_edge_caller). Errors propagate as Python exceptions, with the decoder's totals written back first
 * (the Python loop's `finally`).
 *
 * The record layout (kinds, positions) comes from capture/_layout.h, generated from capture/layout.py;
 * configure(Event, CALL, RETURN, EXCEPTION, YIELD, RESUME) passes the event type and the event kinds
 * (events/types.py) once the module is loaded.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#include "../_counts.h"  /* sk_count_add */

#include "../capture/_layout.h"
#define SK_ROWS_READER
#include "../capture/_rows.h" /* the spill's packed chunks: read in place, no record tuple */

/* what the loop does with an event record (the event kinds of events/types.py, in configure's order) */
enum { K_CALL, K_RETURN, K_EXCEPTION, K_YIELD, K_RESUME, K_COUNT };

/* an event record's kind -> K_*, or -1 (decode.py's _KIND) */
static inline int
event_kind(long record_kind)
{
    switch (record_kind) {
    case SK_CALL:
        return K_CALL;
    case SK_RETURN:
        return K_RETURN;
    case SK_UNWIND:
        return K_EXCEPTION;
    case SK_YIELD:
        return K_YIELD;
    case SK_RESUME:
        return K_RESUME;
    default:
        return -1;
    }
}

/* a decoder frame (decode.py): [call order, code index, callee, start, frame key, caller] */
enum { F_ORDER, F_CODE, F_CALLEE, F_START, F_KEY, F_CALLER, F_SIZE };

#define EVENT_FIELDS 13 /* events.types.Event (configure checks) */

static PyTypeObject *event_type = NULL; /* events.types.Event */
static PyObject *kind_objects[K_COUNT];  /* the event kind ints */

static PyObject *s_stacks, *s_parked, *s_codes, *s_endpoints, *s_thread_events, *s_named, *s_dropped_calls,
    *s_dropped_raised, *s_max_events, *s_order, *s_t0, *s_max_depth, *s_last_t, *s_scenario, *s_dropped,
    *s_calls, *s_unmatched, *s_thread_names, *s_endpoint, *s_meta, *s_edge_caller, *s_arg_names, *s_type,
    *s_generator_exit, *s_get, *s_fields;

/* ------------------------------------------------------------------ configure */

static PyObject *
configure(PyObject *module, PyObject *args)
{
    PyObject *etype, *ev[K_COUNT];
    if (!PyArg_ParseTuple(args, "O!OOOOO:configure", &PyType_Type, &etype, &ev[K_CALL], &ev[K_RETURN],
                          &ev[K_EXCEPTION], &ev[K_YIELD], &ev[K_RESUME])) {
        return NULL;
    }
    if (!PyType_IsSubtype((PyTypeObject *)etype, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "configure: the event type must be a tuple subclass (a NamedTuple)");
        return NULL;
    }
    PyObject *fields = PyObject_GetAttr(etype, s_fields);
    if (fields == NULL) {
        return NULL;
    }
    Py_ssize_t nfields = PyObject_Length(fields);
    Py_DECREF(fields);
    if (nfields != EVENT_FIELDS) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_ValueError, "configure: the event type has %zd fields, not %d", nfields, EVENT_FIELDS);
        }
        return NULL;
    }
    Py_INCREF(etype);
    Py_XSETREF(event_type, (PyTypeObject *)etype);
    for (int k = 0; k < K_COUNT; k++) {
        Py_INCREF(ev[k]);
        Py_XSETREF(kind_objects[k], ev[k]);
    }
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ helpers */

/* item i of a frame ([call order, code index, callee, start, frame key, caller]), borrowed; NULL + error if
 * the frame is not a list that long (the Python loop's frame[i] would raise too). */
static inline PyObject *
frame_item(PyObject *frame, Py_ssize_t i)
{
    if (PyList_CheckExact(frame) && PyList_GET_SIZE(frame) > i) {
        return PyList_GET_ITEM(frame, i);
    }
    if (!PyList_Check(frame)) {
        PyErr_Format(PyExc_TypeError, "decoder frame is a %.100s, not a list", Py_TYPE(frame)->tp_name);
        return NULL;
    }
    if (PyList_GET_SIZE(frame) > i) {
        return PyList_GET_ITEM(frame, i);
    }
    PyErr_SetString(PyExc_IndexError, "list index out of range");
    return NULL;
}

/* d[key] = d.get(key, 0) + n */
static int
count_add(PyObject *d, PyObject *key, long long n)
{
    PyObject *add = PyLong_FromLongLong(n);
    if (add == NULL) {
        return -1;
    }
    int r = sk_count_add(d, key, add);
    Py_DECREF(add);
    return r;
}


static int
index_error(void)
{
    PyErr_SetString(PyExc_IndexError, "tuple index out of range");
    return -1;
}

/* Does the frame belong to code `idx` (and to frame key `fid` when it is not None)? 1, 0 or -1 (error). */
static int
frame_matches(PyObject *frame, PyObject *idx, PyObject *fid)
{
    PyObject *code = frame_item(frame, F_CODE);
    if (code == NULL) {
        return -1;
    }
    int eq = code == idx ? 1 : PyObject_RichCompareBool(code, idx, Py_EQ);
    if (eq <= 0 || fid == Py_None) {
        return eq;
    }
    PyObject *key = frame_item(frame, F_KEY);
    if (key == NULL) {
        return -1;
    }
    return key == fid ? 1 : PyObject_RichCompareBool(key, fid, Py_EQ);
}

/* a close of a generator (an exception summary of type GeneratorExit) is never counted as raised */
/* a summary's JSON bytes: is it an exception summary of type GeneratorExit (events/types.closed)? */
static int
closes(const char *s, Py_ssize_t n)
{
    static const char head[] = "{\"type\":\"GeneratorExit\"";
    const Py_ssize_t h = (Py_ssize_t)sizeof(head) - 1;
    return n > h && memcmp(s, head, (size_t)h) == 0 && (s[h] == ',' || (s[h] == '}' && n == h + 1));
}

static int
is_generator_exit(PyObject *detail)
{
    if (PyBytes_CheckExact(detail)) { /* its JSON (events/types.closed): "type" comes first */
        return closes(PyBytes_AS_STRING(detail), PyBytes_GET_SIZE(detail));
    }
    if (!PyDict_CheckExact(detail)) {
        return 0;
    }
    PyObject *type = PyDict_GetItemWithError(detail, s_type);
    if (type == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    return PyObject_RichCompareBool(type, s_generator_exit, Py_EQ);
}


/* out.append(tuple.__new__(Event, items)): what tuple.__new__ does for a subclass (tuple_subtype_new) */
static int
emit(PyObject *out, PyObject **items)
{
    PyObject *ev = event_type->tp_alloc(event_type, EVENT_FIELDS);
    if (ev == NULL) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < EVENT_FIELDS; i++) {
        PyTuple_SET_ITEM(ev, i, Py_NewRef(items[i]));
    }
    int r = PyList_Append(out, ev);
    Py_DECREF(ev);
    return r;
}

/* ------------------------------------------------------------------ frame lists */

/* The stack entries ([order, code, callee, start, key, caller] lists) of calls that ended, for the next calls:
 * a list made and freed per recorded call was ~150 instructions of allocator and GC bookkeeping. Only a list
 * nobody else holds (refcount 1) comes here, its items cleared (NULL, as PyList_New gives them) and untracked
 * by the GC, so that nothing (gc.get_objects() in a later atexit handler) ever sees a list with NULL items;
 * frame_list() tracks it again when it hands it out, and the caller sets every item. */
#define FRAME_POOL 256
static PyObject *frame_pool[FRAME_POOL];
static int frame_pool_n = 0;

static PyObject *
frame_list(void)
{
    if (frame_pool_n > 0) {
        PyObject *frame = frame_pool[--frame_pool_n];
        PyObject_GC_Track(frame);
        return frame;
    }
    return PyList_New(F_SIZE);
}

/* Py_DECREF(frame), or back to the pool when that would free it */
static void
frame_done(PyObject *frame)
{
    if (frame != NULL && Py_REFCNT(frame) == 1 && PyList_CheckExact(frame) && PyList_GET_SIZE(frame) == F_SIZE
        && frame_pool_n < FRAME_POOL && PyObject_GC_IsTracked(frame)) {
        PyObject_GC_UnTrack(frame);
        for (Py_ssize_t i = 0; i < F_SIZE; i++) {
            Py_CLEAR(((PyListObject *)frame)->ob_item[i]);
        }
        frame_pool[frame_pool_n++] = frame;
        return;
    }
    Py_XDECREF(frame);
}

/* ------------------------------------------------------------------ the loop */

#define CACHE_SLOTS 1024 /* a power of two */

typedef struct {
    unsigned gen;
    long long idx, obj;
    PyObject *endpoint; /* strong reference */
} EndpointSlot;

typedef struct {
    unsigned gen;
    long long idx;
    int has_args;
} CodeSlot;

#define IDX_OBJECTS 4096 /* code indexes below this keep their int object (packed_chunk) */
#define OBJ_SLOTS 256    /* receiver ids: the last int object of each value & (OBJ_SLOTS - 1) */

typedef struct {
    long long value;
    PyObject *obj; /* strong reference, or NULL */
} IntSlot;

/* A call's caches, made once and kept between calls: a pytest run's spill has a chunk per test (sqlparse's suite:
   1,202), and zeroing ~90 KB of fresh caches for each (~100k instructions) cost more than decoding most of them.
   The endpoint and code caches start empty for each call all the same: a call takes a new generation (entries of
   an older one are empty) and lets go of its endpoints at its end (`used`). The int objects stay: any int of the
   value is the same value. */
/* Calls (and raises) past the cap, counted in C per (dict, caller, callee, scenario) while a chunk is decoded and
   added to the decoder's dicts at its end (count_flush): a dict with tuple keys hashed both endpoints through
   Endpoint.__hash__ (a Python method) twice per counted call, ~5,500 instructions. Keyed by the objects
   themselves (held: an address is not reused meanwhile), in the order first met: each dict gets its new keys in
   the order the call-by-call path gave them, and equal endpoints of different identities meet in the dict as they
   did (the first one's key kept). */
#define PENDING_MAX 512   /* entries before a flush */
#define PENDING_SLOTS 1024 /* its index: a power of two, twice PENDING_MAX */

typedef struct {
    PyObject *d, *a, *b, *c; /* strong references (a: None for no caller) */
    long long n;
} Pending;

typedef struct {
    int busy;                    /* a call holds it; one made meanwhile (from Python it called) gets its own */
    unsigned gen;                /* the generation the last call ended with */
    EndpointSlot endpoint_cache[CACHE_SLOTS];
    CodeSlot code_cache[CACHE_SLOTS];
    unsigned short used[CACHE_SLOTS]; /* the endpoint slots holding a reference, made in this call */
    int n_used;
    PyObject *idx_objects[IDX_OBJECTS];
    IntSlot obj_slots[OBJ_SLOTS];
    Pending pending[PENDING_MAX];
    int n_pending;
    short pending_at[PENDING_SLOTS]; /* index into pending + 1; 0: empty */
} Scratch;

static Scratch *kept_scratch; /* made on first use, kept for the process */

/* The pending counts added to their dicts, d[(a, b, c)] = d.get((a, b, c), 0) + n, in the order first met; each
   entry let go. 0, or -1 (the first error; the rest are let go uncounted). */
static int
count_flush(Scratch *s)
{
    int r = 0;
    for (int i = 0; i < s->n_pending; i++) {
        Pending *p = &s->pending[i];
        if (r == 0) {
            PyObject *key = PyTuple_Pack(3, p->a, p->b, p->c);
            r = key == NULL || count_add(p->d, key, p->n) < 0 ? -1 : 0;
            Py_XDECREF(key);
        }
        Py_DECREF(p->d);
        Py_DECREF(p->a);
        Py_DECREF(p->b);
        Py_DECREF(p->c);
    }
    if (s->n_pending) {
        memset(s->pending_at, 0, sizeof(s->pending_at));
    }
    s->n_pending = 0;
    return r;
}

/* d[(a, b, c)] += 1 (from 0): a call (or raise) past the cap, per (caller, callee, scenario); added to d by
   count_flush, at the latest when the chunk ends */
static int
count_key(Scratch *s, PyObject *d, PyObject *a, PyObject *b, PyObject *c)
{
    uintptr_t h = ((uintptr_t)a >> 4) * 0x9E3779B97F4A7C15u ^ ((uintptr_t)b >> 4) * 0xC2B2AE3D27D4EB4Fu
                  ^ ((uintptr_t)c >> 4) * 0x165667B19E3779F9u ^ (uintptr_t)d;
    size_t slot = (size_t)(h ^ (h >> 29)) & (PENDING_SLOTS - 1);
    for (;;) {
        int at = s->pending_at[slot];
        if (at == 0) {
            break;
        }
        Pending *p = &s->pending[at - 1];
        if (p->a == a && p->b == b && p->c == c && p->d == d) {
            p->n++;
            return 0;
        }
        slot = (slot + 1) & (PENDING_SLOTS - 1);
    }
    if (s->n_pending == PENDING_MAX) {
        if (count_flush(s) < 0) {
            return -1;
        }
        return count_key(s, d, a, b, c);
    }
    Pending *p = &s->pending[s->n_pending++];
    p->d = Py_NewRef(d);
    p->a = Py_NewRef(a);
    p->b = Py_NewRef(b);
    p->c = Py_NewRef(c);
    p->n = 1;
    s->pending_at[slot] = (short)s->n_pending;
    return 0;
}

/* the Python loop's locals (decode.py, Decoder._chunk) */
typedef struct {
    PyObject *dec;
    PyObject *out;
    /* the decoder's containers (new references) */
    PyObject *stacks, *parked, *codes, *endpoints, *thread_events, *named, *dropped_calls, *dropped_raised;
    PyObject *endpoint, *meta; /* bound methods */
    PyObject *scen;            /* the scenario running */
    PyObject *t0;              /* NULL until the first event record of the run */
    PyObject *last;            /* last_t */
    long long order, cap;
    int capped;
    Py_ssize_t max_depth;
    long long dropped, calls, unmatched;
    /* thread_events[tid] += 1 per recorded event, added up while the thread stays the same */
    PyObject *tid;             /* the thread counted (it is in the decoder's named set) */
    long long tid_events;
    PyObject *stack_tid, *stack; /* stacks[stack_tid] of the last record */
    long long t0_value;        /* t0 as a C integer when t0_fits */
    int t0_fits;
    /* What a dict lookup would give, for code indexes and receiver ids that are small ints: entries of an older
     * generation are empty. The generation moves on at every call back into Python that may define codes
     * (_meta, _edge_caller); endpoint() only adds the endpoint asked for. */
    unsigned gen;
    EndpointSlot *endpoint_cache; /* _endpoints[(idx, obj)] */
    CodeSlot *code_cache;      /* bool(codes[idx].arg_names) */
    Scratch *scratch;          /* they live in it */
} Loop;

/* the value of an exact int that fits in a long long (1), else 0 */
static inline int
small_value(PyObject *o, long long *v)
{
    if (!PyLong_CheckExact(o)) {
        return 0;
    }
    int overflow;
    *v = PyLong_AsLongLongAndOverflow(o, &overflow);
    return !overflow;
}

/* *r = a - b, 0 if it overflows */
static inline int
subtract(long long a, long long b, long long *r)
{
    if ((b > 0 && a < LLONG_MIN + b) || (b < 0 && a > LLONG_MAX + b)) {
        return 0;
    }
    *r = a - b;
    return 1;
}

/* The caches' entries all become empty (entries of an older generation are). */
static void
next_generation(Loop *st)
{
    if (++st->gen != 0) {
        return;
    }
    for (int i = 0; i < CACHE_SLOTS; i++) {
        Py_CLEAR(st->endpoint_cache[i].endpoint);
        st->endpoint_cache[i].gen = 0;
        st->code_cache[i].gen = 0;
    }
    st->scratch->n_used = 0;
    st->gen = 1;
}

/* _endpoints.get((idx, obj)) or endpoint(idx, obj): a new reference */
static PyObject *
callee_of(Loop *st, PyObject *idx, PyObject *obj)
{
    long long i = 0, o = 0;
    EndpointSlot *slot = NULL;
    if (small_value(idx, &i) && small_value(obj, &o)) {
        slot = &st->endpoint_cache[((unsigned long long)i * 31u + (unsigned long long)o) & (CACHE_SLOTS - 1)];
        if (slot->gen == st->gen && slot->idx == i && slot->obj == o) {
            return Py_NewRef(slot->endpoint);
        }
    }
    PyObject *key = PyTuple_Pack(2, idx, obj);
    if (key == NULL) {
        return NULL;
    }
    PyObject *ep = PyDict_GetItemWithError(st->endpoints, key);
    Py_DECREF(key);
    if (ep != NULL) {
        Py_INCREF(ep);
    }
    else if (PyErr_Occurred() || (ep = PyObject_CallFunctionObjArgs(st->endpoint, idx, obj, NULL)) == NULL) {
        return NULL;
    }
    if (slot != NULL) {
        if (slot->endpoint == NULL) {
            st->scratch->used[st->scratch->n_used++] = (unsigned short)(slot - st->endpoint_cache);
        }
        Py_XSETREF(slot->endpoint, Py_NewRef(ep));
        slot->gen = st->gen;
        slot->idx = i;
        slot->obj = o;
    }
    return ep;
}

/* bool(codes[idx].arg_names): 1, 0, or -1 (error: KeyError for a code never defined) */
static int
has_args(Loop *st, PyObject *idx)
{
    long long i = 0;
    CodeSlot *slot = NULL;
    if (small_value(idx, &i)) {
        slot = &st->code_cache[(unsigned long long)i & (CACHE_SLOTS - 1)];
        if (slot->gen == st->gen && slot->idx == i) {
            return slot->has_args;
        }
    }
    PyObject *info = PyDict_GetItemWithError(st->codes, idx);
    if (info == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetObject(PyExc_KeyError, idx);
        }
        return -1;
    }
    PyObject *arg_names = PyObject_GetAttr(info, s_arg_names);
    if (arg_names == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(arg_names);
    Py_DECREF(arg_names);
    if (truth >= 0 && slot != NULL) {
        slot->gen = st->gen;
        slot->idx = i;
        slot->has_args = truth;
    }
    return truth;
}

/* stacks[tid], made on the thread's first record: borrowed (the loop holds the last one) */
static PyObject *
stack_of(Loop *st, PyObject *tid)
{
    if (st->stack_tid != NULL) {
        int same = st->stack_tid == tid ? 1 : PyObject_RichCompareBool(st->stack_tid, tid, Py_EQ);
        if (same) {
            return same < 0 ? NULL : st->stack;
        }
    }
    PyObject *stack = PyDict_GetItemWithError(st->stacks, tid);
    if (stack != NULL) {
        Py_INCREF(stack);
    }
    else if (PyErr_Occurred() || (stack = PyList_New(0)) == NULL || PyDict_SetItem(st->stacks, tid, stack) < 0) {
        Py_XDECREF(stack);
        return NULL;
    }
    if (!PyList_Check(stack)) {
        PyErr_Format(PyExc_TypeError, "decoder stack is a %.100s, not a list", Py_TYPE(stack)->tp_name);
        Py_DECREF(stack);
        return NULL;
    }
    Py_XSETREF(st->stack, stack);
    Py_XSETREF(st->stack_tid, Py_NewRef(tid));
    return stack;
}

static int
flush_thread(Loop *st)
{
    if (st->tid == NULL) {
        return 0;
    }
    int r = st->tid_events ? count_add(st->thread_events, st->tid, st->tid_events) : 0;
    Py_CLEAR(st->tid);
    st->tid_events = 0;
    return r;
}

/* A recorded event of thread `tid`: count it; *name = the thread's name on its first event (new ref) */
static int
thread_event(Loop *st, PyObject *tid, PyObject **name)
{
    if (st->tid != NULL) {
        int same = st->tid == tid ? 1 : PyObject_RichCompareBool(st->tid, tid, Py_EQ);
        if (same < 0) {
            return -1;
        }
        if (same) {
            st->tid_events++;
            return 0;
        }
        if (flush_thread(st) < 0) {
            return -1;
        }
    }
    int seen = PySet_Contains(st->named, tid);
    if (seen < 0) {
        return -1;
    }
    if (!seen) {
        if (PySet_Add(st->named, tid) < 0) {
            return -1;
        }
        PyObject *names = PyObject_GetAttr(st->dec, s_thread_names);
        if (names == NULL) {
            return -1;
        }
        PyObject *fallback = PyUnicode_FromFormat("thread-%S", tid);
        if (fallback == NULL) {
            Py_DECREF(names);
            return -1;
        }
        *name = PyObject_CallMethodObjArgs(names, s_get, tid, fallback, NULL);
        Py_DECREF(fallback);
        Py_DECREF(names);
        if (*name == NULL) {
            return -1;
        }
    }
    st->tid = Py_NewRef(tid);
    st->tid_events = 1;
    return 0;
}

/* An event record's items, from its tuple or from a packed row (borrowed; NULL where the record has none). */
typedef struct {
    long kind;         /* the record's kind */
    PyObject *k;       /* ... as the record's object (NULL: a row's, always a known kind) */
    Py_ssize_t n;      /* the record's length */
    PyObject *idx, *tid, *detail, *obj, *fid, *caller;
    PyObject *time;    /* NULL: a row's, t_abs holds it */
    long long t_abs;
} Rec;

static int one_event(Loop *st, Rec *r);

/* One record of the chunk (a tuple). */
static int
one_record(Loop *st, PyObject *rec)
{
    Py_ssize_t n = PyTuple_GET_SIZE(rec);
    if (n < 1) {
        return index_error();
    }
    PyObject *k = PyTuple_GET_ITEM(rec, SK_EV_KIND);
    int overflow;
    long kv = PyLong_AsLongAndOverflow(k, &overflow);
    if (kv == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow) { /* past a C long: a negative one is no event (_meta ignores it), a positive one no kind */
        kv = overflow < 0 ? -1 : LONG_MAX;
    }
    if (kv < 0) { /* no event: a definition, a scenario, a boundary, a creation */
        PyObject *order = PyLong_FromLongLong(st->order);
        if (order == NULL) {
            return -1;
        }
        PyObject *scen = PyObject_CallFunctionObjArgs(st->meta, rec, order, st->scen, NULL);
        Py_DECREF(order);
        if (scen == NULL) {
            return -1;
        }
        Py_SETREF(st->scen, scen);
        next_generation(st);
        return 0;
    }
    if (n <= SK_EV_DETAIL || n <= SK_EV_TIME || n <= SK_EV_THREAD || n <= SK_EV_CODE) {
        return index_error();
    }
    Rec r = {kv, k, n, PyTuple_GET_ITEM(rec, SK_EV_CODE), PyTuple_GET_ITEM(rec, SK_EV_THREAD),
             PyTuple_GET_ITEM(rec, SK_EV_DETAIL), n > SK_EV_OBJECT ? PyTuple_GET_ITEM(rec, SK_EV_OBJECT) : NULL,
             n > SK_EV_FRAME ? PyTuple_GET_ITEM(rec, SK_EV_FRAME) : NULL,
             n > SK_EV_CALLER ? PyTuple_GET_ITEM(rec, SK_EV_CALLER) : NULL, PyTuple_GET_ITEM(rec, SK_EV_TIME), 0};
    return one_event(st, &r);
}

/* One event record. */
static int
one_event(Loop *st, Rec *r)
{
    long kv = r->kind;
    Py_ssize_t n = r->n;
    PyObject *idx = r->idx, *tid = r->tid, *detail = r->detail;
    long long t_value = 0, t_abs = r->t_abs; /* t - t0 as a C integer too when t_fits */
    int t_is_c = r->time == NULL || small_value(r->time, &t_abs);
    if (st->t0 == NULL) {
        st->t0 = r->time != NULL ? Py_NewRef(r->time) : PyLong_FromLongLong(t_abs);
        if (st->t0 == NULL) {
            return -1;
        }
        st->t0_fits = small_value(st->t0, &st->t0_value);
        if (PyObject_SetAttr(st->dec, s_t0, st->t0) < 0) {
            return -1;
        }
    }
    int t_fits = st->t0_fits && t_is_c && subtract(t_abs, st->t0_value, &t_value);
    PyObject *t;
    if (t_fits) {
        t = PyLong_FromLongLong(t_value);
    }
    else {
        PyObject *time = r->time != NULL ? Py_NewRef(r->time) : PyLong_FromLongLong(t_abs);
        t = time != NULL ? PyNumber_Subtract(time, st->t0) : NULL;
        Py_XDECREF(time);
    }
    if (t == NULL) {
        return -1;
    }
    Py_SETREF(st->last, t); /* t stays borrowed from st->last */

    int rc = -1;
    PyObject *stack = NULL, *frame = NULL, *name = NULL, *eo_obj = NULL, *depth_obj = NULL, *caller = NULL;
    PyObject *callee = NULL, *extra = NULL;
    if ((stack = stack_of(st, tid)) == NULL) {
        goto done;
    }
    Py_INCREF(stack);
    int kind = event_kind(kv);
    if (kind < 0) {
        if (r->k != NULL) {
            PyErr_SetObject(PyExc_KeyError, r->k);
        }
        else {
            PyErr_Format(PyExc_KeyError, "%ld", kv);
        }
        goto done;
    }
    PyObject *fid = Py_None;
    if (kind != K_CALL && kind != K_RESUME) { /* leaving a frame: find it first */
        fid = r->fid != NULL ? r->fid : Py_None;
        Py_ssize_t size = PyList_GET_SIZE(stack), pos;
        for (pos = size - 1; pos >= 0; pos--) {
            int m = frame_matches(PyList_GET_ITEM(stack, pos), idx, fid);
            if (m < 0) {
                goto done;
            }
            if (m) {
                break;
            }
        }
        if (pos < 0) { /* no matching call (it began before tracing): not an event */
            st->unmatched++;
            rc = 0;
            goto done;
        }
        st->unmatched += size - 1 - pos;
        if (pos == size - 1) { /* stack.pop(): the frame takes the list's reference */
            frame = PyList_GET_ITEM(stack, pos);
            Py_SET_SIZE(stack, pos);
        }
        else {
            frame = Py_NewRef(PyList_GET_ITEM(stack, pos));
            if (PyList_SetSlice(stack, pos, size, NULL) < 0) {
                goto done;
            }
        }
    }
    long long eo;
    if (!st->capped || st->order < st->cap) {
        eo = st->order++;
        if (thread_event(st, tid, &name) < 0) {
            goto done;
        }
    }
    else {
        eo = -1;
        st->dropped++;
    }
    if ((eo_obj = PyLong_FromLongLong(eo)) == NULL) {
        goto done;
    }
    PyObject *thread_name = name != NULL ? name : Py_None;
    Py_ssize_t depth = PyList_GET_SIZE(stack);
    if ((depth_obj = PyLong_FromSsize_t(depth)) == NULL) {
        goto done;
    }
    if (kind == K_CALL) {
        if (n <= SK_EV_OBJECT) {
            index_error();
            goto done;
        }
        if ((callee = callee_of(st, idx, r->obj)) == NULL) {
            goto done;
        }
        if (depth) {
            if ((caller = frame_item(PyList_GET_ITEM(stack, depth - 1), F_CALLEE)) == NULL) {
                goto done;
            }
            Py_INCREF(caller);
        }
        else {
            caller = Py_NewRef(Py_None);
        }
        if (n > SK_EV_CALLER) { /* an edge's first call recorded while counting names its caller (budget.py) */
            PyObject *node = r->caller;
            PyObject *named_caller = PyObject_CallMethodObjArgs(st->dec, s_edge_caller, node, NULL);
            if (named_caller == NULL) {
                goto done;
            }
            Py_SETREF(caller, named_caller);
            next_generation(st);
        }
        PyObject *new_frame = frame_list();
        if (new_frame == NULL) {
            goto done;
        }
        PyList_SET_ITEM(new_frame, F_ORDER, Py_NewRef(eo_obj));
        PyList_SET_ITEM(new_frame, F_CODE, Py_NewRef(idx));
        PyList_SET_ITEM(new_frame, F_CALLEE, Py_NewRef(callee));
        PyList_SET_ITEM(new_frame, F_START, Py_NewRef(t));
        PyList_SET_ITEM(new_frame, F_KEY, Py_NewRef(r->fid != NULL ? r->fid : Py_None));
        PyList_SET_ITEM(new_frame, F_CALLER, Py_NewRef(caller));
        int appended = PyList_Append(stack, new_frame);
        Py_DECREF(new_frame);
        if (appended < 0) {
            goto done;
        }
        st->calls++;
        if (depth >= st->max_depth) {
            st->max_depth = depth + 1;
        }
        if (eo < 0) { /* past the cap: only counted */
            rc = count_key(st->scratch, st->dropped_calls, caller, callee, st->scen);
            goto done;
        }
        PyObject *skipped = Py_False;
        if (detail == Py_None) {
            int truth = has_args(st, idx);
            if (truth < 0) {
                goto done;
            }
            skipped = truth ? Py_True : Py_False;
        }
        if ((extra = PyLong_FromLong(0)) == NULL) {
            goto done;
        }
        PyObject *items[EVENT_FIELDS] = {eo_obj, kind_objects[K_CALL], eo_obj, t, depth_obj, tid, caller, callee,
                                         detail, skipped, thread_name, extra, st->scen};
        rc = emit(st->out, items);
    }
    else if (kind == K_RESUME) {
        if (n <= SK_EV_FRAME) {
            index_error();
            goto done;
        }
        fid = r->fid;
        frame = PyDict_GetItemWithError(st->parked, fid);
        if (frame != NULL) {
            Py_INCREF(frame);
            if (PyDict_DelItem(st->parked, fid) < 0) {
                goto done;
            }
        }
        else { /* its call was not recorded (counted, or before tracing): call_id None */
            if (PyErr_Occurred()) {
                goto done;
            }
            PyObject *zero = PyLong_FromLong(0);
            if (zero == NULL) {
                goto done;
            }
            PyObject *ep = PyObject_CallFunctionObjArgs(st->endpoint, idx, zero, NULL);
            Py_DECREF(zero);
            if (ep == NULL) {
                goto done;
            }
            PyObject *outer = Py_None;
            if (depth && (outer = frame_item(PyList_GET_ITEM(stack, depth - 1), F_CALLEE)) == NULL) {
                Py_DECREF(ep);
                goto done;
            }
            if ((frame = PyList_New(F_SIZE)) == NULL) {
                Py_DECREF(ep);
                goto done;
            }
            PyList_SET_ITEM(frame, F_ORDER, Py_NewRef(Py_None));
            PyList_SET_ITEM(frame, F_CODE, Py_NewRef(idx));
            PyList_SET_ITEM(frame, F_CALLEE, ep);
            PyList_SET_ITEM(frame, F_START, Py_NewRef(t));
            PyList_SET_ITEM(frame, F_KEY, Py_NewRef(fid));
            PyList_SET_ITEM(frame, F_CALLER, Py_NewRef(outer));
            st->unmatched++;
        }
        if (PyList_Append(stack, frame) < 0) {
            goto done;
        }
        if (eo < 0) {
            rc = 0;
            goto done;
        }
        PyObject *outer = Py_None, *call_id, *resumed;
        if (depth && (outer = frame_item(PyList_GET_ITEM(stack, depth - 1), F_CALLEE)) == NULL) {
            goto done;
        }
        if ((call_id = frame_item(frame, F_ORDER)) == NULL || (resumed = frame_item(frame, F_CALLEE)) == NULL) {
            goto done;
        }
        if ((extra = PyLong_FromLong(0)) == NULL) {
            goto done;
        }
        PyObject *items[EVENT_FIELDS] = {eo_obj, kind_objects[K_RESUME], call_id, t, depth_obj, tid, outer, resumed,
                                         detail, Py_False, thread_name, extra, st->scen};
        rc = emit(st->out, items);
    }
    else { /* RETURN / EXCEPTION / YIELD: the frame was taken off the stack above */
        if (depth) {
            if ((caller = frame_item(PyList_GET_ITEM(stack, depth - 1), F_CALLEE)) == NULL) {
                goto done;
            }
            Py_INCREF(caller);
        }
        else {
            caller = Py_NewRef(Py_None);
        }
        PyObject *call_id, *left;
        if ((call_id = frame_item(frame, F_ORDER)) == NULL || (left = frame_item(frame, F_CALLEE)) == NULL) {
            goto done;
        }
        if (kind == K_EXCEPTION && eo < 0) { /* credited to the call's edge (a close, GeneratorExit, is none) */
            int close = is_generator_exit(detail);
            if (close < 0) {
                goto done;
            }
            PyObject *edge_caller = close ? NULL : frame_item(frame, F_CALLER);
            if (!close && (edge_caller == NULL
                           || count_key(st->scratch, st->dropped_raised, edge_caller, left, st->scen) < 0)) {
                goto done;
            }
        }
        if (kind == K_YIELD) {
            if (PyDict_SetItem(st->parked, fid, frame) < 0) {
                goto done;
            }
            if (eo < 0) {
                rc = 0;
                goto done;
            }
            extra = PyLong_FromLong(0);
        }
        else if (eo >= 0) {
            PyObject *start = frame_item(frame, F_START);
            if (start == NULL) {
                goto done;
            }
            long long s, d;
            extra = t_fits && small_value(start, &s) && subtract(t_value, s, &d) ? PyLong_FromLongLong(d)
                                                                                : PyNumber_Subtract(t, start);
        }
        else {
            rc = 0;
            goto done;
        }
        if (extra == NULL) {
            goto done;
        }
        PyObject *skipped = detail == Py_None && kind == K_RETURN ? Py_True : Py_False;
        PyObject *items[EVENT_FIELDS] = {eo_obj, kind_objects[kind], call_id, t, depth_obj, tid, caller, left,
                                         detail, skipped, thread_name, extra, st->scen};
        rc = emit(st->out, items);
    }
done:
    Py_XDECREF(stack);
    frame_done(frame);
    Py_XDECREF(name);
    Py_XDECREF(eo_obj);
    Py_XDECREF(depth_obj);
    Py_XDECREF(caller);
    Py_XDECREF(callee);
    Py_XDECREF(extra);
    return rc;
}

/* self.<name> = self.<name> + delta (the Python loop's `finally`: self.dropped += dropped ...) */
static int
add_to(PyObject *dec, PyObject *name, long long delta)
{
    PyObject *old = PyObject_GetAttr(dec, name);
    if (old == NULL) {
        return -1;
    }
    PyObject *d = PyLong_FromLongLong(delta);
    PyObject *sum = d == NULL ? NULL : PyNumber_Add(old, d);
    Py_DECREF(old);
    Py_XDECREF(d);
    if (sum == NULL) {
        return -1;
    }
    int r = PyObject_SetAttr(dec, name, sum);
    Py_DECREF(sum);
    return r;
}

static int
set_long(PyObject *dec, PyObject *name, long long value)
{
    PyObject *v = PyLong_FromLongLong(value);
    if (v == NULL) {
        return -1;
    }
    int r = PyObject_SetAttr(dec, name, v);
    Py_DECREF(v);
    return r;
}

/* The loop's totals back into the decoder, whether the loop ended or failed (an error in flight is kept). */
static int
write_back(Loop *st)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc = PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *exc = type;
#endif
    int r = 0;
    if (count_flush(st->scratch) < 0 || flush_thread(st) < 0 || set_long(st->dec, s_order, st->order) < 0
        || add_to(st->dec, s_dropped, st->dropped) < 0
        || add_to(st->dec, s_calls, st->calls) < 0 || add_to(st->dec, s_unmatched, st->unmatched) < 0
        || set_long(st->dec, s_max_depth, st->max_depth) < 0 || PyObject_SetAttr(st->dec, s_last_t, st->last) < 0
        || PyObject_SetAttr(st->dec, s_scenario, st->scen) < 0) {
        r = -1;
    }
    if (exc != NULL) {
        if (r < 0) {
            PyErr_Clear(); /* the loop's error is the one to report */
        }
#if PY_VERSION_HEX >= 0x030C0000
        PyErr_SetRaisedException(exc);
#else
        PyErr_Restore(type, value, tb);
#endif
        r = -1;
    }
    return r;
}

static PyObject *
get_container(PyObject *dec, PyObject *name, PyTypeObject *type)
{
    PyObject *v = PyObject_GetAttr(dec, name);
    if (v != NULL && !PyObject_TypeCheck(v, type)) {
        PyErr_Format(PyExc_TypeError, "Decoder.%U is a %.100s, not a %.100s", name, Py_TYPE(v)->tp_name,
                     type->tp_name);
        Py_CLEAR(v);
    }
    return v;
}

/* An int object of `value` (new reference), the one made last for it while it stays in its slot. */
static inline PyObject *
cached_int(IntSlot *slots, long long value)
{
    IntSlot *s = &slots[(unsigned long long)value & (OBJ_SLOTS - 1)];
    if (s->obj == NULL || s->value != value) {
        PyObject *o = PyLong_FromLongLong(value);
        if (o == NULL) {
            return NULL;
        }
        Py_XSETREF(s->obj, o);
        s->value = value;
    }
    return Py_NewRef(s->obj);
}

/* The records of a packed chunk (capture/_rows.h): an event row is decoded from its fields with no record
   tuple (its ints made once per chunk where they repeat), any other record as one_record does. */
static int
packed_chunk(Loop *st, PyObject *chunk)
{
    SkReader rd;
    if (sk_reader_open(&rd, chunk) < 0) {
        return -1;
    }
    PyObject **idx_objects = st->scratch->idx_objects;
    IntSlot *obj_slots = st->scratch->obj_slots;
    PyObject *tid = NULL;
    long long tid_value = -1;
    int rc = -1;
    for (;;) {
        SkRow row;
        PyObject *other;
        int got = sk_reader_next(&rd, &row, &other);
        if (got <= 0) {
            rc = got;
            break;
        }
        if (other != NULL) {
            PyObject *rec = PyTuple_Check(other) ? Py_NewRef(other) : PySequence_Tuple(other);
            int r = rec != NULL ? one_record(st, rec) : -1;
            Py_XDECREF(rec);
            if (r < 0) {
                break;
            }
            continue;
        }
        PyObject *idx;
        if (row.code < IDX_OBJECTS) {
            if (idx_objects[row.code] == NULL && (idx_objects[row.code] = PyLong_FromUnsignedLong(row.code)) == NULL) {
                break;
            }
            idx = Py_NewRef(idx_objects[row.code]);
        }
        else if ((idx = PyLong_FromUnsignedLong(row.code)) == NULL) {
            break;
        }
        if (tid == NULL || tid_value != (long long)row.thread) {
            Py_XSETREF(tid, PyLong_FromUnsignedLong(row.thread));
            if (tid == NULL) {
                Py_DECREF(idx);
                break;
            }
            tid_value = row.thread;
        }
        PyObject *detail = row.flags & SK_ROW_DETAIL ? PyBytes_FromStringAndSize(row.detail, row.detail_len)
                                                     : Py_NewRef(Py_None);
        PyObject *obj = cached_int(obj_slots, row.obj);
        PyObject *fid = NULL, *caller = NULL;
        Py_ssize_t n = SK_EV_SIZE;
        int ok = detail != NULL && obj != NULL;
        if (ok && (row.flags & SK_ROW_FRAME)) {
            n = SK_EV_SIZE_FRAME;
            fid = row.flags & SK_ROW_FRAME_NONE ? Py_NewRef(Py_None) : PyLong_FromLongLong(row.frame);
            ok = fid != NULL;
        }
        if (ok && (row.flags & SK_ROW_CALLER)) {
            n = SK_EV_SIZE_CALLER;
            caller = PyLong_FromLongLong(row.caller);
            ok = caller != NULL;
        }
        int r = -1;
        if (ok) {
            Rec rec = {row.kind, NULL, n, idx, tid, detail, obj, fid, caller, NULL, row.t};
            r = one_event(st, &rec);
        }
        Py_DECREF(idx);
        Py_XDECREF(detail);
        Py_XDECREF(obj);
        Py_XDECREF(fid);
        Py_XDECREF(caller);
        if (r < 0) {
            break;
        }
    }
    Py_XDECREF(tid);
    sk_reader_close(&rd);
    return rc;
}

/* The kept scratch, or one of its own for a call made while another holds it; NULL with MemoryError. */
static Scratch *
scratch_take(void)
{
    if (kept_scratch == NULL && (kept_scratch = PyMem_Calloc(1, sizeof(Scratch))) == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    Scratch *s = kept_scratch;
    if (s->busy && (s = PyMem_Calloc(1, sizeof(Scratch))) == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    s->busy = 1;
    return s;
}

/* The call's endpoints let go; a scratch of its own freed with its ints. */
static void
scratch_give(Scratch *s)
{
    for (int k = 0; k < s->n_used; k++) {
        Py_CLEAR(s->endpoint_cache[s->used[k]].endpoint);
    }
    s->n_used = 0;
    s->busy = 0;
    if (s == kept_scratch) {
        return;
    }
    for (int i = 0; i < IDX_OBJECTS; i++) {
        Py_XDECREF(s->idx_objects[i]);
    }
    for (int i = 0; i < OBJ_SLOTS; i++) {
        Py_XDECREF(s->obj_slots[i].obj);
    }
    PyMem_Free(s);
}

static PyObject *
decode_chunk(PyObject *module, PyObject *args)
{
    PyObject *dec, *chunk, *out;
    if (!PyArg_ParseTuple(args, "OOO!:decode_chunk", &dec, &chunk, &PyList_Type, &out)) {
        return NULL;
    }
    if (event_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "decode_chunk: call configure() first");
        return NULL;
    }
    Loop st;
    memset(&st, 0, sizeof(st));
    st.dec = dec;
    st.out = out;
    PyObject *seq = NULL, *cap = NULL, *result = NULL;
    if ((st.scratch = scratch_take()) == NULL) {
        return NULL;
    }
    st.endpoint_cache = st.scratch->endpoint_cache;
    st.code_cache = st.scratch->code_cache;
    st.gen = st.scratch->gen;
    next_generation(&st); /* this call's entries: none yet */
    if ((st.stacks = get_container(dec, s_stacks, &PyDict_Type)) == NULL
        || (st.parked = get_container(dec, s_parked, &PyDict_Type)) == NULL
        || (st.codes = get_container(dec, s_codes, &PyDict_Type)) == NULL
        || (st.endpoints = get_container(dec, s_endpoints, &PyDict_Type)) == NULL
        || (st.thread_events = get_container(dec, s_thread_events, &PyDict_Type)) == NULL
        || (st.named = get_container(dec, s_named, &PySet_Type)) == NULL
        || (st.dropped_calls = get_container(dec, s_dropped_calls, &PyDict_Type)) == NULL
        || (st.dropped_raised = get_container(dec, s_dropped_raised, &PyDict_Type)) == NULL
        || (st.endpoint = PyObject_GetAttr(dec, s_endpoint)) == NULL
        || (st.meta = PyObject_GetAttr(dec, s_meta)) == NULL || (st.scen = PyObject_GetAttr(dec, s_scenario)) == NULL
        || (st.t0 = PyObject_GetAttr(dec, s_t0)) == NULL || (st.last = PyObject_GetAttr(dec, s_last_t)) == NULL
        || (cap = PyObject_GetAttr(dec, s_max_events)) == NULL) {
        goto cleanup;
    }
    if (st.t0 == Py_None) {
        Py_CLEAR(st.t0);
    }
    else {
        st.t0_fits = small_value(st.t0, &st.t0_value);
    }
    /* `if not cap or order < cap` */
    int truth = PyObject_IsTrue(cap);
    if (truth < 0) {
        goto cleanup;
    }
    st.capped = truth;
    if (truth) {
        int overflow;
        st.cap = PyLong_AsLongLongAndOverflow(cap, &overflow);
        if (st.cap == -1 && PyErr_Occurred()) {
            goto cleanup;
        }
        if (overflow) {
            st.cap = overflow > 0 ? LLONG_MAX : LLONG_MIN;
        }
    }
    PyObject *v = PyObject_GetAttr(dec, s_order);
    if (v == NULL) {
        goto cleanup;
    }
    st.order = PyLong_AsLongLong(v);
    Py_DECREF(v);
    if (st.order == -1 && PyErr_Occurred()) {
        goto cleanup;
    }
    if ((v = PyObject_GetAttr(dec, s_max_depth)) == NULL) {
        goto cleanup;
    }
    st.max_depth = PyLong_AsSsize_t(v);
    Py_DECREF(v);
    if (st.max_depth == -1 && PyErr_Occurred()) {
        goto cleanup;
    }
    int failed = 0;
    if (PyBytes_CheckExact(chunk)) { /* a packed chunk: its rows read in place */
        failed = packed_chunk(&st, chunk) < 0;
        if (write_back(&st) == 0 && !failed) {
            result = Py_NewRef(Py_None);
        }
        goto cleanup;
    }
    if ((seq = PySequence_Fast(chunk, "decode_chunk: the chunk must be a list of records")) == NULL) {
        goto cleanup;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *rec = PySequence_Fast_GET_ITEM(seq, i);
        rec = PyTuple_Check(rec) ? Py_NewRef(rec) : PySequence_Tuple(rec);
        if (rec == NULL || one_record(&st, rec) < 0) {
            Py_XDECREF(rec);
            failed = 1;
            break;
        }
        Py_DECREF(rec);
    }
    if (write_back(&st) == 0 && !failed) {
        result = Py_NewRef(Py_None);
    }
cleanup:
    Py_XDECREF(seq);
    Py_XDECREF(cap);
    Py_XDECREF(st.stacks);
    Py_XDECREF(st.parked);
    Py_XDECREF(st.codes);
    Py_XDECREF(st.endpoints);
    Py_XDECREF(st.thread_events);
    Py_XDECREF(st.named);
    Py_XDECREF(st.dropped_calls);
    Py_XDECREF(st.dropped_raised);
    Py_XDECREF(st.endpoint);
    Py_XDECREF(st.meta);
    Py_XDECREF(st.scen);
    Py_XDECREF(st.t0);
    Py_XDECREF(st.last);
    Py_XDECREF(st.tid);
    Py_XDECREF(st.stack_tid);
    Py_XDECREF(st.stack);
    st.scratch->gen = st.gen;
    scratch_give(st.scratch);
    return result;
}

/* ------------------------------------------------------------------ module */

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS,
     "configure(Event, kinds, CALL, RETURN, EXCEPTION, YIELD, RESUME): the event type, the table from event "
     "record kinds to event kinds, and the event kinds"},
    {"decode_chunk", decode_chunk, METH_VARARGS,
     "decode_chunk(decoder, chunk, out): Decoder._chunk over the decoder's state, appending Events to out"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef decode_module = {
    PyModuleDef_HEAD_INIT, "_decode", "The decoder's loop over a spill chunk (events/decode.py).", -1, methods,
};

static int
intern(PyObject **slot, const char *s)
{
    *slot = PyUnicode_InternFromString(s);
    return *slot == NULL ? -1 : 0;
}

PyMODINIT_FUNC
PyInit__decode(void)
{
    if (intern(&s_stacks, "stacks") < 0 || intern(&s_parked, "parked") < 0 || intern(&s_codes, "codes") < 0
        || intern(&s_endpoints, "_endpoints") < 0 || intern(&s_thread_events, "thread_events") < 0
        || intern(&s_named, "_named") < 0 || intern(&s_dropped_calls, "dropped_calls") < 0
        || intern(&s_dropped_raised, "dropped_raised") < 0 || intern(&s_max_events, "max_events") < 0
        || intern(&s_order, "order") < 0 || intern(&s_t0, "t0") < 0 || intern(&s_max_depth, "max_depth") < 0
        || intern(&s_last_t, "last_t") < 0 || intern(&s_scenario, "scenario") < 0
        || intern(&s_dropped, "dropped") < 0 || intern(&s_calls, "calls") < 0
        || intern(&s_unmatched, "unmatched") < 0 || intern(&s_thread_names, "thread_names") < 0
        || intern(&s_endpoint, "endpoint") < 0 || intern(&s_meta, "_meta") < 0
        || intern(&s_edge_caller, "_edge_caller") < 0 || intern(&s_arg_names, "arg_names") < 0
        || intern(&s_type, "type") < 0 || intern(&s_generator_exit, "GeneratorExit") < 0 || intern(&s_get, "get") < 0
        || intern(&s_fields, "_fields") < 0) {
        return NULL;
    }
    return PyModule_Create(&decode_module);
}
