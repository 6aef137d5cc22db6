/* Optional C fast paths for the two tracer backends (skeleton_replay.capture).
 *
 * Nothing here decides anything the Python backends do not: each hook handles the
 * common case with the same records and the same state (the Recorder's lists and
 * dicts), and hands every other case (a code object met for the first time, a new
 * thread, an error) to the Python callback it stands in front of, before touching
 * any state. Without a compiler the package runs the Python callbacks alone and
 * writes the same trace, only slower.
 *
 * The program's exceptions (a signal handler's, raised while a hook runs Python code:
 * a summary, a new object, a flush) are never cleared: they propagate into the
 * program (is_foreign), after the hook has left its records as CPython's next event
 * expects (see start_core, return_core). Only Skeleton's own errors become gaps.
 *
 *   Hooks         calls and returns of traced code over the Recorder's state; its
 *                 start/ret methods are the PY_START/PY_RETURN callbacks (3.12+)
 *   ProfileHook   a C-level profile function (PyEval_SetProfile) for the setprofile
 *                 backend (3.11, or --backend setprofile): C calls and untraced code
 *                 are dropped here, traced calls and normal returns go through Hooks,
 *                 the rest (generators, exception exits) to the Python profiler
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include <stddef.h>  /* offsetof */
#include <structmember.h>  /* T_INT, READONLY */
#include <time.h>  /* clock_gettime: time.perf_counter_ns without a call (now_value) */

#include "_layout.h"  /* the record layout: generated from layout.py */
#define SK_ROWS_WRITER
#include "_rows.h"  /* pack_records: the spill's packed chunks */
#include "../_spread.h"  /* sk_spread: the caches' slots */
#include "../_counts.h"  /* sk_count_add: dicts of counts */

/* 3.12 and 3.13: a PY_START callback reads the receiver (`self`) from the running frame's fast locals,
   without building a frame object (PyEval_GetFrame makes one, and the frame pays again to free it: ~700
   instructions per method call). The head of CPython's _PyInterpreterFrame (internal/pycore_frame.h) is
   the same in both versions: mirrored here, used only after Hooks' self-test (fast_locals_ok) and only
   for a frame whose first field is the code object the event is about. Other versions: PyEval_GetFrame. */
#if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030E0000
#define SK_FAST_LOCALS 1
typedef struct {
    PyObject *code;  /* 3.12 f_code, 3.13 f_executable */
    void *previous, *f_funcobj, *f_globals, *f_builtins, *f_locals, *frame_obj, *instr;
    int stacktop;
    uint16_t return_offset;
    char owner;
    PyObject *localsplus[1];
} SkFrame;

/* The running Python frame of this thread (may be NULL). */
static inline SkFrame *
running_frame(void)
{
    PyThreadState *ts = PyThreadState_Get();
#if PY_VERSION_HEX >= 0x030D0000
    return (SkFrame *)ts->current_frame;
#else
    return ts->cframe ? (SkFrame *)ts->cframe->current_frame : NULL;
#endif
}

/* Is a frame incomplete, as CPython's _PyFrame_IsIncomplete (internal/pycore_frame.h) says: an entry frame of
   the C stack, or one not yet at its first traceable instruction (3.13's __init__ clean-up shim, which
   CALL_ALLOC_AND_ENTER_INIT puts under a class's __init__). Owners: 1 a generator, 3 the C stack (3.12, 3.13). */
#define SK_OWNED_BY_GENERATOR 1
#define SK_OWNED_BY_CSTACK 3
static inline int
incomplete(SkFrame *b)
{
    if (b->owner == SK_OWNED_BY_CSTACK) {
        return 1;
    }
    if (b->owner == SK_OWNED_BY_GENERATOR || b->code == NULL || !PyCode_Check(b->code)) {
        return 0;
    }
    PyCodeObject *co = (PyCodeObject *)b->code;
    /* code units of 2 bytes (_Py_CODEUNIT, not public in 3.13) */
    return (const uint16_t *)b->instr < (const uint16_t *)co->co_code_adaptive + co->_co_firsttraceable;
}

/* The frame that called `f`, as PyFrame_GetBack finds it (incomplete frames skipped). Used after the self-test
   (fast_back_selftest). */
static inline SkFrame *
caller_frame(SkFrame *f)
{
    SkFrame *b = (SkFrame *)f->previous;
    while (b != NULL && incomplete(b)) {
        b = (SkFrame *)b->previous;
    }
    return b;
}
#else
#define SK_FAST_LOCALS 0
#endif

/* ---------------------------------------------------------------- helpers */

/* list[i] += n for a list of ints (n >= 0); returns the new value or -1 on error. */
static long long
add_to(PyObject *list, Py_ssize_t i, long long n)
{
    long long v = PyLong_AsLongLong(PyList_GET_ITEM(list, i));
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    PyObject *nv = PyLong_FromLongLong(v + n);
    if (nv == NULL) {
        return -1;
    }
    PyObject *old = PyList_GET_ITEM(list, i);
    PyList_SET_ITEM(list, i, nv);  /* steals nv */
    Py_DECREF(old);  /* an int */
    return v + n;
}

/* list[i] += 1 */
static inline long long
bump(PyObject *list, Py_ssize_t i)
{
    return add_to(list, i, 1);
}

/* The Recorder's dict of counted generators' call edges by frame id (counting.py: p[8]), or NULL. */
static inline PyObject *
gen_edges(PyObject *p)
{
    PyObject *d = PyList_GET_SIZE(p) > SK_P_GEN_EDGES ? PyList_GET_ITEM(p, SK_P_GEN_EDGES) : NULL;
    return d != NULL && PyDict_CheckExact(d) ? d : NULL;
}

/* A generator's call is recorded: an entry left at its frame's address by a generator that died goes. */
static int
forget_gen_edge(PyObject *p, PyObject *fid)
{
    PyObject *d = gen_edges(p);
    if (d == NULL || PyDict_GET_SIZE(d) == 0) {
        return 0;
    }
    int found = PyDict_Contains(d, fid);
    return found > 0 ? PyDict_DelItem(d, fid) : found;
}

/* ------------------------------------------------------------ AddrSet */

/* The addresses that may be keys of Recorder.objects (ObjectIds.object_id adds each before it makes the entry):
   a superset of them, so that an __init__ at an address not in it skips the dict (reborn_new: an int object
   and a dict look-up per object created). An address whose entry went stays until reborn_new finds the dict
   without it. Open addressing, linear probing, removal by backward shift; too many addresses for the memory it
   may take (MAX_BITS), or no memory: `full`, and every address is looked up in the dict again. */
#define ADDR_MIN_BITS 12
#define ADDR_MAX_BITS 22

typedef struct {
    PyObject_HEAD
    uintptr_t *slots;  /* 0: empty */
    int bits;
    Py_ssize_t used;
    int full;
} AddrSet;

static PyTypeObject AddrSetType;

static int
addr_grow(AddrSet *a)
{
    int bits = a->slots == NULL ? ADDR_MIN_BITS : a->bits + 1;
    if (bits > ADDR_MAX_BITS) {
        return -1;
    }
    uintptr_t *slots = calloc((size_t)1 << bits, sizeof(uintptr_t));
    if (slots == NULL) {
        return -1;
    }
    size_t mask = ((size_t)1 << bits) - 1;
    if (a->slots != NULL) {
        for (size_t k = 0; k < ((size_t)1 << a->bits); k++) {
            uintptr_t v = a->slots[k];
            if (v != 0) {
                size_t i = sk_spread(v, bits);
                while (slots[i] != 0) {
                    i = (i + 1) & mask;
                }
                slots[i] = v;
            }
        }
        free(a->slots);
    }
    a->slots = slots;
    a->bits = bits;
    return 0;
}

/* The slot of `v`, or the empty slot where its probe ends (the set has slots). */
static inline size_t
addr_find(AddrSet *a, uintptr_t v)
{
    size_t mask = ((size_t)1 << a->bits) - 1, i = sk_spread(v, a->bits);
    while (a->slots[i] != 0 && a->slots[i] != v) {
        i = (i + 1) & mask;
    }
    return i;
}

static void
addr_add(AddrSet *a, uintptr_t v)
{
    if (a->full || v == 0) {
        return;
    }
    if ((a->slots == NULL || (a->used + 1) * 4 > ((Py_ssize_t)1 << a->bits) * 3) && addr_grow(a) < 0) {
        a->full = 1;  /* every address is looked up in the dict from now on */
        return;
    }
    size_t i = addr_find(a, v);
    if (a->slots[i] == 0) {
        a->slots[i] = v;
        a->used++;
    }
}

/* May `v` be a key of the dict? 1: maybe (look), 0: surely not. */
static inline int
addr_maybe(AddrSet *a, uintptr_t v)
{
    if (a->full) {
        return 1;
    }
    return a->slots != NULL && v != 0 && a->slots[addr_find(a, v)] == v;
}

/* The dict holds no entry at `v` now. */
static void
addr_remove(AddrSet *a, uintptr_t v)
{
    if (a->full || a->slots == NULL) {
        return;
    }
    size_t mask = ((size_t)1 << a->bits) - 1, i = addr_find(a, v);
    if (v == 0 || a->slots[i] != v) {
        return;
    }
    /* backward shift: each later entry of the run moves up where its probe from its home slot passes i */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        uintptr_t w = a->slots[j];
        if (w == 0) {
            break;
        }
        size_t home = sk_spread(w, a->bits);
        if (((j - home) & mask) >= ((j - i) & mask)) {  /* i lies on w's probe path */
            a->slots[i] = w;
            i = j;
        }
    }
    a->slots[i] = 0;
    a->used--;
}

/* The address an int stands for (0, or -1 with an error set). */
static int
addr_arg(PyObject *key, uintptr_t *v)
{
    void *p = PyLong_AsVoidPtr(key);
    if (p == NULL && PyErr_Occurred()) {
        return -1;
    }
    *v = (uintptr_t)p;
    return 0;
}

static PyObject *
addrset_add(AddrSet *a, PyObject *key)
{
    uintptr_t v;
    if (addr_arg(key, &v) < 0) {
        return NULL;
    }
    addr_add(a, v);
    Py_RETURN_NONE;
}

static PyObject *
addrset_contains_py(AddrSet *a, PyObject *key)
{
    uintptr_t v;
    return addr_arg(key, &v) < 0 ? NULL : PyBool_FromLong(addr_maybe(a, v));
}

static PyObject *
addrset_discard(AddrSet *a, PyObject *key)
{
    uintptr_t v;
    if (addr_arg(key, &v) < 0) {
        return NULL;
    }
    addr_remove(a, v);
    Py_RETURN_NONE;
}

static Py_ssize_t
addrset_length(AddrSet *a)
{
    return a->used;
}

static void
addrset_dealloc(AddrSet *a)
{
    free(a->slots);
    Py_TYPE(a)->tp_free((PyObject *)a);
}

static PyMethodDef addrset_methods[] = {
    {"add", (PyCFunction)addrset_add, METH_O, "add(address): it may be a key of the dict from now on."},
    {"maybe", (PyCFunction)addrset_contains_py, METH_O, "maybe(address) -> bool: False when it surely is no key."},
    {"discard", (PyCFunction)addrset_discard, METH_O, "discard(address): the dict has no entry there now."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods addrset_as_sequence = {
    .sq_length = (lenfunc)addrset_length,
};

static PyMemberDef addrset_members[] = {
    {"full", T_INT, offsetof(AddrSet, full), READONLY, "1: too many addresses kept, every one is looked up"},
    {NULL}
};

static PyTypeObject AddrSetType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "skeleton_replay.capture._speedups.AddrSet",
    .tp_basicsize = sizeof(AddrSet),
    .tp_dealloc = (destructor)addrset_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The addresses that may be keys of Recorder.objects (a superset; len: how many kept).",
    .tp_methods = addrset_methods,
    .tp_members = addrset_members,
    .tp_as_sequence = &addrset_as_sequence,
    .tp_new = PyType_GenericNew,
};

/* ------------------------------------------------------------ Hooks */

#define CODE_BITS 10
#define CODE_CACHE (1 << CODE_BITS)
#define OBJ_CACHE 4096   /* receivers: (address, class) -> run-local id */
#define KEY_CACHE 8192   /* node keys and edges as ints */
#define PAST_CACHE 256   /* classes past Creations.limit */
#define MADE_CACHE 1024  /* creation keys */

typedef struct {
    void *addr;
    PyTypeObject *type;  /* borrowed: `objects` keeps it alive (overflow: as the dict, by address) */
    PyObject *oid;       /* held */
    long long oid_c;
} ObjSlot;

typedef struct {
    void *type;
    long long ix, oid;
    Py_ssize_t n;       /* -1: empty */
    long long pending;  /* creations of key n counted here, not yet added to Creations.counts[n] (fold_made) */
} MadeSlot;

/* A cache keyed by a code object's address (code_hit, code_put): the code, a value (borrowed: whoever fills
   the cache keeps it alive) and the receiver's index in the code's fast locals (a plain local), or -1. */
typedef struct {
    void *code[CODE_CACHE];
    PyObject *value[CODE_CACHE];
    int recv[CODE_CACHE];
} CodeCache;

#define OBJ_BITS 12
#define KEY_BITS 13
#define PAST_BITS 8
#define MADE_BITS 10
#define EDGE_BITS 12
#define EDGE_SLOTS (1 << EDGE_BITS)  /* open addressing; folded into the dict when half full */
#define EDGE_FILL (EDGE_SLOTS / 2)

typedef struct {
    unsigned long long edge;  /* caller << SK_EDGE_SHIFT | callee */
    long long total;          /* the edge's count (as its dict value would be); 0: empty slot */
} EdgeCount;

typedef struct {
    PyObject_HEAD
    PyObject *table;       /* {id(code): (idx, receiver, generator, arg_names)} */
    PyObject *buf;         /* record buffer (list) */
    PyObject *counts;      /* calls recorded per code index (list of int) */
    PyObject *state;       /* [calls recorded so far] */
    PyObject *mode;        /* [counting past the cap?] */
    PyObject *objects;     /* {id(obj): (oid, class)} (no reference to the object) */
    PyObject *inits;       /* {id(code): receiver name} of the project's __init__ methods (watched, not traced) */
    PyObject *foreign;     /* (own_prefixes, stdlib_prefixes): what origin.foreign calls Skeleton's and stdlib's files */
    PyObject *is_tracing;  /* _tracemalloc.is_tracing */
    PyObject *overflow;    /* {id(class): the one id shared by its instances past INSTANCE_LIMIT} */
    PyObject *tls_key;     /* key of this capture's per-thread state in the thread-state dict */
    PyObject *thread_state;     /* () -> per-thread list [tid, stack, counts, raised] */
    PyObject *receiver_id;      /* (obj) -> run-local id (slow path) */
    PyObject *summarise_args;   /* (frame, names) -> summary */
    PyObject *summarise_value;  /* (code index, value) -> summary: Recorder.summarise_return */
    /* The Recorder's C summariser's args_json and result_json, called from here (NULL: none, or a summarise_*
       call each time), its Unstorable, and Recorder.args_failed (summarise_args' except clause) */
    PyObject *args_json, *result_json, *unstorable, *args_failed;
    PyObject *now;              /* time.perf_counter_ns */
    PyObject *flush;            /* () -> None */
    PyObject *flusher;          /* flush's __self__ (the Recorder), or NULL: is it flushing now (_flushing)? */
    PyObject *s_flushing;       /* "_flushing" */
    PyObject *gap;              /* (kind, message) -> None */
    PyObject *py_start;         /* the Python PY_START callback: every case not handled here */
    PyObject *py_return;        /* the Python PY_RETURN callback */
    PyObject *py_yield;         /* the Python PY_YIELD callback (optional: sys.monitoring only) */
    PyObject *py_resume;        /* the Python PY_RESUME callback (optional) */
    PyObject *py_unwind;        /* the Python PY_UNWIND callback, behind its Guard (set_unwind; optional) */
    PyObject *kind_call, *kind_return, *kind_yield, *kind_resume, *zero, *span;
    PyObject *limit;            /* [flush when the buffer holds this many records] (Recorder.limit) */
    PyObject *reserve;          /* [events left for the first calls of edges met while counting] (budget.py) */
    PyObject *importing;        /* [module bodies running now]: no first calls of edges recorded then */
    long long first_calls, per_code, sample_every, span_c, first_per_edge;
    CodeCache codes;             /* id(code) -> table entry (the table only grows during a capture) */
    int fast_locals;             /* 1: the SkFrame mirror passed the self-test (hooks_init) */
    CodeCache watched;           /* id(code) -> receiver name of watched __init__ methods (inits keeps them) */
    int fast_back;              /* 1: the mirror also finds the calling frame right (fast_back_selftest) */
    int clock_direct;           /* 1: `now` is time.perf_counter_ns, read here as CPython reads it (now_value) */
    PyObject *created;  /* made.created of the recorder, or None (creation_hook); set at the first __init__ */
    PyObject *made_keys, *made_counts, *made_per_class;  /* Creations.keys, .counts, .per_class (creation_fast) */
    long long made_limit;  /* Creations.limit: objects of a class whose own creator is kept */
    /* Lane C (issue 16): what a counted call and an __init__ cost. All caches are exact mirrors of the
       Recorder's dicts (see docs: the objects cache is flushed whenever an entry leaves `objects`). */
    ObjSlot obj_cache[OBJ_CACHE];   /* (address, class) -> run-local id: `objects` (or `overflow`) */
    PyObject *objects_gen;          /* ObjectIds.objects_gen: [n], bumped by Python when an entry leaves */
    PyObject *objects_gen_seen;     /* the item seen last (a strong reference: its address is never reused) */
    PyObject *node_obj[KEY_CACHE];  /* node keys (and record-written markers) as ints, reused: no fresh */
    long long node_val[KEY_CACHE];  /* ints, and a dict's own key found by identity (no comparison) */
    PyObject *edge_obj[KEY_CACHE];  /* packed edges caller << SK_EDGE_SHIFT | callee, reused likewise */
    unsigned long long edge_val[KEY_CACHE];
    void *past_class[PAST_CACHE];   /* classes past made.limit (Creations.per_class only grows) */
    void *ovf_class[PAST_CACHE];    /* classes in `overflow` (never removed) and their shared id (held) */
    PyObject *ovf_oid[PAST_CACHE];
    MadeSlot made_cache[MADE_CACHE];  /* (code index, object id, class) -> Creations.keys number */
    uint64_t tp_id;                 /* PyThreadState_GetID of the thread whose state list tp_p is */
    PyObject *tp_p;                 /* (held; cleared by close) */
    /* Counted calls per packed edge of ONE thread's state list (edge_p), kept here instead of in its
       p[P_COUNTS] dict: each slot holds the edge's whole count (the dict's value when it came in, plus
       the calls since). fold_counts() writes them into the dict before anything reads it: a hand-over to
       the Python callbacks, another thread counting, Counting.checkpoint (through fold()), close. */
    EdgeCount edge_tab[EDGE_SLOTS];
    int edge_used[EDGE_FILL];       /* the slots in use, in the order they were taken */
    int n_edges;
    PyObject *edge_p;               /* (held) the state list whose counts the table holds, or NULL */
    /* Events of counted generators (2 per counted resume) of ONE thread's state list (resumed_p), not yet added
       to its p[P_RESUMED] int: written there by fold_counts(), with the edge counts (a fresh int per resume
       otherwise). Python only adds to that int between folds, and reads or resets it after one. */
    PyObject *resumed_p;            /* (held) or NULL */
    long long resumed_add;
    SkRowQueue *rows;               /* (held) where event records go as rows (append_event), or NULL: as tuples */
    AddrSet *addrs;                 /* (held) addresses that may be keys of `objects` (reborn_new), or NULL */
    PyObject *weakrefs;
} Hooks;

static int fold_counts(Hooks *h);
static int fold_made(Hooks *h);
static int fast_locals_selftest(void);
static int fast_back_selftest(void);

/* Forget every cached entry (dropping the references the caches hold). */
static void
clear_caches(Hooks *h)
{
    for (int i = 0; i < OBJ_CACHE; i++) {
        h->obj_cache[i].addr = NULL;
        h->obj_cache[i].type = NULL;
        Py_CLEAR(h->obj_cache[i].oid);
    }
    for (int i = 0; i < KEY_CACHE; i++) {
        Py_CLEAR(h->node_obj[i]);
        Py_CLEAR(h->edge_obj[i]);
    }
    memset(h->past_class, 0, sizeof(h->past_class));
    for (int i = 0; i < PAST_CACHE; i++) {
        h->ovf_class[i] = NULL;
        Py_CLEAR(h->ovf_oid[i]);
    }
    PyObject *type, *value, *tb;  /* (dealloc may run while an exception is raised) */
    PyErr_Fetch(&type, &value, &tb);
    if (fold_made(h) < 0) {  /* counts are never lost with their cache slots */
        PyErr_Clear();
    }
    PyErr_Restore(type, value, tb);
    memset(h->made_cache, 0, sizeof(h->made_cache));
    Py_CLEAR(h->tp_p);
}

static void
hooks_dealloc(Hooks *h)
{
    if (h->weakrefs != NULL) {
        PyObject_ClearWeakRefs((PyObject *)h);
    }
    if (h->n_edges || h->resumed_add) {  /* counts not written yet (close was not called): written now, never lost */
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        if (fold_counts(h) < 0) {
            PyErr_Clear();
        }
        PyErr_Restore(type, value, tb);
    }
    Py_CLEAR(h->edge_p);
    Py_CLEAR(h->resumed_p);
    clear_caches(h);
    Py_XDECREF(h->objects_gen); Py_XDECREF(h->objects_gen_seen);
    Py_XDECREF(h->table); Py_XDECREF(h->buf); Py_XDECREF(h->counts); Py_XDECREF(h->state);
    Py_XDECREF(h->mode); Py_XDECREF(h->objects); Py_XDECREF(h->overflow); Py_XDECREF(h->tls_key); Py_XDECREF(h->thread_state);
    Py_XDECREF(h->receiver_id); Py_XDECREF(h->summarise_args); Py_XDECREF(h->summarise_value);
    Py_XDECREF(h->args_json); Py_XDECREF(h->result_json); Py_XDECREF(h->unstorable); Py_XDECREF(h->args_failed);
    Py_XDECREF(h->now); Py_XDECREF(h->flush); Py_XDECREF(h->flusher); Py_XDECREF(h->s_flushing); Py_XDECREF(h->gap); Py_XDECREF(h->py_start);
    Py_XDECREF(h->py_return); Py_XDECREF(h->kind_call); Py_XDECREF(h->kind_return);
    Py_XDECREF(h->zero); Py_XDECREF(h->span); Py_XDECREF(h->limit);
    Py_XDECREF(h->py_yield); Py_XDECREF(h->py_resume); Py_XDECREF(h->py_unwind); Py_XDECREF(h->kind_yield); Py_XDECREF(h->kind_resume);
    Py_XDECREF(h->inits); Py_XDECREF(h->foreign); Py_XDECREF(h->is_tracing);
    Py_XDECREF(h->reserve); Py_XDECREF(h->importing); Py_XDECREF(h->created);
    Py_XDECREF(h->made_keys); Py_XDECREF(h->made_counts); Py_XDECREF(h->made_per_class);
    Py_XDECREF(h->rows);
    Py_XDECREF(h->addrs);
    Py_TYPE(h)->tp_free((PyObject *)h);
}

/* An optional argument of type `t`: None becomes NULL; 0, or -1 with a TypeError. */
static int
optional_of(PyObject **o, PyTypeObject *t, const char *name)
{
    if (*o == Py_None) {
        *o = NULL;
    }
    if (*o != NULL && !Py_IS_TYPE(*o, t)) {
        PyErr_Format(PyExc_TypeError, "%s must be a %s or None", name, t->tp_name);
        return -1;
    }
    return 0;
}

static int
hooks_init(Hooks *h, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"table", "buf", "counts", "state", "mode", "objects", "overflow", "thread_state",
                             "receiver_id", "summarise_args", "summarise_value", "now", "flush", "gap",
                             "py_start", "py_return", "kind_call", "kind_return", "span", "limit",
                             "first_calls", "per_code", "sample_every",
                             "py_yield", "py_resume", "kind_yield", "kind_resume", "inits", "foreign", "is_tracing",
                             "reserve", "importing", "first_per_edge", "rows", "addrs", "summaries", "args_failed",
                             NULL};
    PyObject *o[20];
    PyObject *opt[4] = {NULL, NULL, NULL, NULL};
    PyObject *inits = NULL, *foreign = NULL, *is_tracing = NULL, *reserve = NULL, *importing = NULL, *rows = NULL, *addrs = NULL;
    PyObject *summaries = NULL, *args_failed = NULL;
    h->first_per_edge = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!O!O!O!O!O!OOOOOOOOOOOOO!LLL|OOOOO!OOO!O!LOOOO", kwlist,
                                     &PyDict_Type, &o[0], &PyList_Type, &o[1], &PyList_Type, &o[2],
                                     &PyList_Type, &o[3], &PyList_Type, &o[4], &PyDict_Type, &o[5],
                                     &PyDict_Type, &o[6], &o[7], &o[8], &o[9], &o[10], &o[11], &o[12],
                                     &o[13], &o[14], &o[15], &o[16], &o[17], &o[18], &PyList_Type, &o[19],
                                     &h->first_calls, &h->per_code, &h->sample_every,
                                     &opt[0], &opt[1], &opt[2], &opt[3], &PyDict_Type, &inits, &foreign,
                                     &is_tracing, &PyList_Type, &reserve, &PyList_Type, &importing,
                                     &h->first_per_edge, &rows, &addrs, &summaries, &args_failed)) {
        return -1;
    }
    Py_CLEAR(h->args_json);
    Py_CLEAR(h->result_json);
    Py_CLEAR(h->unstorable);
    Py_CLEAR(h->args_failed);
    if (summaries != NULL && summaries != Py_None) {
        if (args_failed == NULL || args_failed == Py_None) {
            PyErr_SetString(PyExc_TypeError, "summaries needs args_failed");
            return -1;
        }
        if ((h->args_json = PyObject_GetAttrString(summaries, "args_json")) == NULL
            || (h->result_json = PyObject_GetAttrString(summaries, "result_json")) == NULL
            || (h->unstorable = PyObject_GetAttrString(summaries, "Unstorable")) == NULL) {
            return -1;
        }
        h->args_failed = Py_NewRef(args_failed);
    }
    if (optional_of(&rows, &SkRowQueueType, "rows") < 0 || optional_of(&addrs, &AddrSetType, "addrs") < 0) {
        return -1;
    }
    Py_XSETREF(h->rows, (SkRowQueue *)Py_XNewRef(rows));
    if (addrs != NULL) {  /* the entries made before: kept too (ObjectIds.object_id adds the later ones) */
        PyObject *k, *v;
        Py_ssize_t pos = 0;
        while (PyDict_Next(o[5], &pos, &k, &v)) {
            void *a = PyLong_Check(k) ? PyLong_AsVoidPtr(k) : NULL;
            if (a == NULL) {
                PyErr_Clear();
                ((AddrSet *)addrs)->full = 1;  /* a key it cannot hold: the dict is asked every time */
            }
            addr_add((AddrSet *)addrs, (uintptr_t)a);
        }
    }
    Py_XSETREF(h->addrs, (AddrSet *)Py_XNewRef(addrs));
    if ((reserve && PyList_GET_SIZE(reserve) != 1) || (importing && PyList_GET_SIZE(importing) != 1)) {
        PyErr_SetString(PyExc_ValueError, "reserve and importing must be one-item lists");
        return -1;
    }
    if (!reserve || !importing) {
        h->first_per_edge = 0;  /* no first calls of edges recorded while counting */
    }
    Py_XSETREF(h->reserve, Py_XNewRef(reserve));
    Py_XSETREF(h->importing, Py_XNewRef(importing));
    Py_XSETREF(h->inits, Py_XNewRef(inits));
    if (foreign != NULL && foreign != Py_None &&
            !(PyTuple_Check(foreign) && PyTuple_GET_SIZE(foreign) == 2 && PyTuple_Check(PyTuple_GET_ITEM(foreign, 0))
              && PyTuple_Check(PyTuple_GET_ITEM(foreign, 1)))) {
        PyErr_SetString(PyExc_TypeError, "foreign must be (own_prefixes, stdlib_prefixes)");
        return -1;
    }
    Py_XSETREF(h->foreign, foreign == Py_None ? NULL : Py_XNewRef(foreign));
    Py_XSETREF(h->is_tracing, is_tracing == Py_None ? NULL : Py_XNewRef(is_tracing));
    if (!(opt[2] && opt[3])) {
        PyErr_SetString(PyExc_TypeError, "kind_yield and kind_resume are required");
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        if (opt[i] == Py_None) {
            opt[i] = NULL;  /* no Python callback: that hook is not used */
        }
    }
    Py_XSETREF(h->py_yield, Py_XNewRef(opt[0]));
    Py_XSETREF(h->py_resume, Py_XNewRef(opt[1]));
    Py_XSETREF(h->kind_yield, Py_XNewRef(opt[2]));
    Py_XSETREF(h->kind_resume, Py_XNewRef(opt[3]));
    if (PyList_GET_SIZE(o[3]) != 1 || PyList_GET_SIZE(o[4]) != 1 || PyList_GET_SIZE(o[19]) != 1) {
        PyErr_SetString(PyExc_ValueError, "state, mode and limit must be one-item lists");
        return -1;
    }
    if (h->sample_every < 1) {
        h->sample_every = 1;
    }
    PyObject **slots[] = {&h->table, &h->buf, &h->counts, &h->state, &h->mode, &h->objects,
                          &h->overflow, &h->thread_state, &h->receiver_id, &h->summarise_args, &h->summarise_value,
                          &h->now, &h->flush, &h->gap, &h->py_start, &h->py_return, &h->kind_call,
                          &h->kind_return, &h->span, &h->limit};
    for (int i = 0; i < 20; i++) {
        Py_INCREF(o[i]);
        Py_XSETREF(*slots[i], o[i]);
    }
    /* Recorder.flush returns at once while a flush runs (another thread's, which released the GIL to write the
       spill): the hooks do not call it then (a thread appending meanwhile called it for every event) */
    Py_XSETREF(h->flusher, PyMethod_Check(h->flush) ? Py_NewRef(PyMethod_GET_SELF(h->flush)) : NULL);
    Py_XSETREF(h->s_flushing, PyUnicode_InternFromString("_flushing"));
    if (h->s_flushing == NULL) {
        return -1;
    }
    static unsigned long long captures = 0;  /* a fresh key per capture: never another capture's state */
    Py_XSETREF(h->tls_key, PyUnicode_FromFormat("skeleton_replay.thread.%llu", ++captures));
    Py_XSETREF(h->zero, PyLong_FromLong(0));
    h->span_c = PyLong_AsLongLong(h->span);
    if (h->span_c <= 0) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ValueError, "span must be positive");
        }
        return -1;
    }
    memset(h->codes.code, 0, sizeof(h->codes.code));
    memset(h->watched.code, 0, sizeof(h->watched.code));
    h->fast_locals = getenv("SKELETON_NO_FAST_LOCALS") == NULL && fast_locals_selftest();
    h->fast_back = h->fast_locals && fast_back_selftest();
    h->clock_direct = 0;
#ifdef __linux__
    PyObject *time_module = PyImport_ImportModule("time");
    PyObject *perf_counter_ns = time_module ? PyObject_GetAttrString(time_module, "perf_counter_ns") : NULL;
    h->clock_direct = perf_counter_ns != NULL && perf_counter_ns == h->now;
    Py_XDECREF(perf_counter_ns);
    Py_XDECREF(time_module);
    PyErr_Clear();
#endif
    if (fold_counts(h) < 0) {  /* (__init__ called again: the counts so far belong to the old state) */
        return -1;
    }
    clear_caches(h);
    /* ObjectIds.objects_gen, through receiver_id's recorder (optional: without it, no objects cache) */
    PyObject *rec = PyMethod_Check(h->receiver_id) ? PyMethod_GET_SELF(h->receiver_id) : NULL;
    PyObject *gen = rec ? PyObject_GetAttrString(rec, "objects_gen") : NULL;
    if (gen == NULL) {
        PyErr_Clear();
    }
    else if (!PyList_CheckExact(gen) || PyList_GET_SIZE(gen) != 1) {
        Py_CLEAR(gen);
    }
    Py_XSETREF(h->objects_gen, gen);
    Py_XSETREF(h->objects_gen_seen, gen ? Py_NewRef(PyList_GET_ITEM(gen, 0)) : NULL);
    return (h->tls_key && h->zero) ? 0 : -1;
}

/* Does the SkFrame mirror read this CPython's frames right? Checked on the running frame (the Python
   function that makes the Hooks): its frame object, its code and its arguments must be where the mirror
   says. 1 yes, 0 no (then every receiver is read through a frame object). */
static int
fast_locals_selftest(void)
{
    int ok = 0;
#if SK_FAST_LOCALS
    PyFrameObject *frame = PyEval_GetFrame();  /* borrowed; makes the frame object the mirror must point to */
    SkFrame *f = running_frame();
    if (frame == NULL || f == NULL || f->frame_obj != (void *)frame) {
        return 0;
    }
    PyCodeObject *code = PyFrame_GetCode(frame);
    PyObject *vars = (PyObject *)code == f->code ? PyCode_GetVarnames(code) : NULL;
    PyObject *cells = vars ? PyCode_GetCellvars(code) : NULL;
    if (cells != NULL && PyTuple_CheckExact(vars)) {
        ok = 1;
        int checked = 0;
        for (Py_ssize_t i = 0; ok && i < PyTuple_GET_SIZE(vars) && i < code->co_argcount; i++) {
            PyObject *name = PyTuple_GET_ITEM(vars, i);
            if (PySequence_Contains(cells, name) != 0) {
                continue;
            }
            PyObject *v = PyFrame_GetVar(frame, name);
            if (v == NULL) {
                PyErr_Clear();
                continue;
            }
            ok = v == f->localsplus[i];
            checked++;
            Py_DECREF(v);
        }
        ok = ok && checked > 0;
    }
    Py_XDECREF(vars);
    Py_XDECREF(cells);
    Py_DECREF(code);
    PyErr_Clear();
#endif
    return ok;
}

/* Does caller_frame find the frame PyFrame_GetBack finds? Checked on the running frame, as above: 1 yes, 0 no
   (then a watched __init__ reads its receiver and its caller through frame objects). */
static int
fast_back_selftest(void)
{
    int ok = 0;
#if SK_FAST_LOCALS
    PyFrameObject *frame = PyEval_GetFrame();  /* borrowed */
    SkFrame *f = running_frame();
    if (frame == NULL || f == NULL || f->frame_obj != (void *)frame) {
        return 0;
    }
    PyFrameObject *back = PyFrame_GetBack(frame);  /* new reference; makes the frame object the mirror must find */
    SkFrame *b = caller_frame(f);
    ok = back != NULL ? b != NULL && b->frame_obj == (void *)back : b == NULL;
    Py_XDECREF(back);
    PyErr_Clear();
#endif
    return ok;
}

/* ------------------------------------------------------------ headroom at the recursion limit */

/* A hook runs where the program's frame runs: at the recursion limit the Python code a hook calls (a
   summary, a Python callback, a flush) would fail for lack of stack where the program's own frames did
   not, and a call or an exit would go unrecorded (or pair with the wrong frame). When fewer than
   SK_HEADROOM frames are left, the hook lends Skeleton's work that many frames (Py_SetRecursionLimit) and
   gives them back before it returns to the program, which therefore meets its limit where it would have
   untraced. One compare per event otherwise. */
#define SK_HEADROOM 100

static inline int
headroom_open(void)
{
    PyThreadState *ts = PyThreadState_Get();
#if PY_VERSION_HEX >= 0x030C0000
    int left = ts->py_recursion_remaining;
#else
    int left = ts->recursion_remaining;
#endif
    if (left >= SK_HEADROOM) {
        return 0;
    }
    int old = Py_GetRecursionLimit();
    Py_SetRecursionLimit(old + SK_HEADROOM);
    return old;
}

static inline void
headroom_close(int old)
{
    if (old > 0) {
        Py_SetRecursionLimit(old);
    }
}

/* This thread's state list (borrowed), or NULL with an error set. */
static PyObject *
thread_p(Hooks *h)
{
    uint64_t ts = PyThreadState_GetID(PyThreadState_Get());  /* unique: never reused by a later thread */
    if (h->tp_p != NULL && ts == h->tp_id) {
        return h->tp_p;  /* the same thread as last time */
    }
    PyObject *d = PyThreadState_GetDict();
    if (d != NULL) {
        PyObject *p = PyDict_GetItemWithError(d, h->tls_key);
        if (p != NULL) {
            h->tp_id = ts;
            Py_XSETREF(h->tp_p, Py_NewRef(p));
            return p;
        }
        if (PyErr_Occurred()) {
            return NULL;
        }
    }
    PyObject *p = PyObject_CallNoArgs(h->thread_state);
    if (p == NULL) {
        return NULL;
    }
    if (!PyList_CheckExact(p) || PyList_GET_SIZE(p) <= SK_P_RAISED || d == NULL) {
        Py_DECREF(p);
        PyErr_SetString(PyExc_RuntimeError, "unexpected thread state");
        return NULL;
    }
    int err = PyDict_SetItem(d, h->tls_key, p);
    Py_DECREF(p);  /* the thread-state dict keeps it */
    return err < 0 ? NULL : p;
}

/* Is this file Skeleton's or the standard library's (origin._skeleton_or_stdlib)? */
static int
trusted_file(Hooks *h, PyObject *filename)
{
    if (!PyUnicode_Check(filename)) {
        return 0;
    }
    PyObject *own = PyTuple_GET_ITEM(h->foreign, 0), *std = PyTuple_GET_ITEM(h->foreign, 1);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(own); i++) {
        if (PyUnicode_Tailmatch(filename, PyTuple_GET_ITEM(own, i), 0, PY_SSIZE_T_MAX, -1) == 1) {
            return 1;
        }
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(std); i++) {
        if (PyUnicode_Tailmatch(filename, PyTuple_GET_ITEM(std, i), 0, PY_SSIZE_T_MAX, -1) == 1) {
            PyObject *marker = PyUnicode_FromString("-packages");
            Py_ssize_t at = marker ? PyUnicode_Find(filename, marker, 0, PY_SSIZE_T_MAX, 1) : -2;
            Py_XDECREF(marker);
            PyErr_Clear();
            return at == -1;
        }
    }
    return 0;
}

/* With an exception set: 1 when it is the program's (a signal handler's exception, raised while a hook
   ran Python code; KeyboardInterrupt, SystemExit...), which must propagate unchanged; 0 when it is
   Skeleton's own error. The exception stays set. Decided here, without running Python code (which
   could fail at the recursion limit), as origin.foreign decides: an Exception is Skeleton's when
   every frame of its traceback is Skeleton's or the standard library's. */
static int
is_foreign(Hooks *h)
{
    if (!PyErr_ExceptionMatches(PyExc_Exception)) {
        return 1;
    }
    if (h->foreign == NULL) {
        return 0;
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL) {
        PyException_SetTraceback(value, tb);
    }
    int yes = 0;
    for (PyTracebackObject *t = (PyTracebackObject *)tb; t != NULL && !yes; t = t->tb_next) {
        PyCodeObject *code = PyFrame_GetCode(t->tb_frame);
        yes = !trusted_file(h, code->co_filename);
        Py_DECREF(code);
    }
    PyErr_Restore(type, value, tb);
    return yes;
}

/* Contain an error raised inside a hook: record a gap, never raise into the program. The program's
   exceptions (is_foreign) propagate unchanged (NULL). */
static PyObject *
contain(Hooks *h, const char *event)
{
    if (is_foreign(h)) {
        return NULL;
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *msg = NULL;
    if (value != NULL) {
        PyObject *name = PyType_GetName(Py_TYPE(value));
        msg = name ? PyUnicode_FromFormat("%s: %U: %S", event, name, value) : NULL;
        Py_XDECREF(name);
    }
    Py_XDECREF(type); Py_XDECREF(value); Py_XDECREF(tb);
    if (msg == NULL) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    PyObject *r = PyObject_CallFunction(h->gap, "sO", "tracer_error", msg);
    Py_DECREF(msg);
    if (r == NULL) {
        PyErr_Clear();
    }
    Py_XDECREF(r);
    Py_RETURN_NONE;
}

/* The index of variable `name` in the fast locals of `code` when it is a plain local (not a cell), else -1. */
static int
receiver_index(Hooks *h, PyObject *code, PyObject *name)
{
    int ix = -1;
#if SK_FAST_LOCALS
    if (!h->fast_locals || !PyCode_Check(code) || !PyUnicode_CheckExact(name)) {
        return -1;
    }
    PyObject *vars = PyCode_GetVarnames((PyCodeObject *)code);
    PyObject *cells = vars ? PyCode_GetCellvars((PyCodeObject *)code) : NULL;
    if (cells != NULL && PyTuple_CheckExact(vars) && PyTuple_CheckExact(cells)) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(vars) && i < ((PyCodeObject *)code)->co_nlocalsplus; i++) {
            PyObject *v = PyTuple_GET_ITEM(vars, i);
            if (PyUnicode_CheckExact(v) && PyUnicode_Compare(v, name) == 0) {
                ix = (int)i;
                break;
            }
        }
        for (Py_ssize_t i = 0; ix >= 0 && i < PyTuple_GET_SIZE(cells); i++) {
            PyObject *v = PyTuple_GET_ITEM(cells, i);
            if (PyUnicode_CheckExact(v) && PyUnicode_Compare(v, name) == 0) {
                ix = -1;  /* a cell (a closure uses it): the frame holds a cell object there */
            }
        }
    }
    Py_XDECREF(vars);
    Py_XDECREF(cells);
    PyErr_Clear();
#endif
    return ix;
}

/* The code and watched-__init__ caches (CodeCache) are sets of two slots (the newer entry first), chosen by a
   Fibonacci hash of the code object's address. They were direct-mapped on the address's low bits: two hot code objects that
   met in one slot (a matter of where the allocator put them) evicted each other on every call, and each
   miss paid a dict lookup and the receiver's index again (PyCode_GetVarnames): ~4 % of call_heavy's
   instructions in one memory layout and none in another. The slot of `code`, or -1. */
static inline Py_ssize_t
code_hit(CodeCache *c, void *code)
{
    size_t s = sk_spread((unsigned long long)(uintptr_t)code, CODE_BITS) & ~(size_t)1;
    return c->code[s] == code ? (Py_ssize_t)s : c->code[s + 1] == code ? (Py_ssize_t)s + 1 : -1;
}

/* The receiver's index cached with `code` (-1: not cached, or a cell, not read from the fast locals). */
static inline int
code_recv(CodeCache *c, void *code)
{
    Py_ssize_t slot = code_hit(c, code);
    return slot >= 0 ? c->recv[slot] : -1;
}

/* A new entry of `code`: the set's newer entry becomes its older one (the older one goes). */
static inline void
code_put(CodeCache *c, void *code, PyObject *value, int recv)
{
    size_t s = sk_spread((unsigned long long)(uintptr_t)code, CODE_BITS) & ~(size_t)1;
    c->code[s + 1] = c->code[s];
    c->value[s + 1] = c->value[s];
    c->recv[s + 1] = c->recv[s];
    c->code[s] = code;
    c->value[s] = value;
    c->recv[s] = recv;
}

/* The receiver of a call that starts now (PY_START: the running frame is the callee's), borrowed, without a
   frame object; NULL when it cannot be read so (then PyEval_GetFrame and PyFrame_GetVar). */
static inline PyObject *
fast_receiver(Hooks *h, PyObject *code)
{
#if SK_FAST_LOCALS
    int ix = code_recv(&h->codes, code);
    if (ix < 0) {
        return NULL;
    }
    SkFrame *f = running_frame();
    return f != NULL && f->code == code ? f->localsplus[ix] : NULL;
#else
    return NULL;
#endif
}

/* The table entry of a code object (borrowed), NULL if untraced or undecided (error set on failure). */
static PyObject *
code_entry(Hooks *h, PyObject *code)
{
    Py_ssize_t hit = code_hit(&h->codes, code);
    if (hit >= 0) {
        return h->codes.value[hit];
    }
    PyObject *k = PyLong_FromVoidPtr(code);
    if (k == NULL) {
        return NULL;
    }
    PyObject *entry = PyDict_GetItemWithError(h->table, k);
    Py_DECREF(k);
    if (entry != NULL && PyTuple_CheckExact(entry) && PyTuple_GET_SIZE(entry) == SK_ENTRY_SIZE) {
        int recv = receiver_index(h, code, PyTuple_GET_ITEM(entry, SK_ENTRY_RECEIVER));
        code_put(&h->codes, code, entry, recv);  /* the table keeps the code object alive */
        return entry;
    }
    return NULL;
}

/* The objects cache is valid while no entry left `objects` in Python (ObjectIds bumps objects_gen). */
static inline void
objects_sync(Hooks *h)
{
    if (h->objects_gen != NULL && PyList_GET_ITEM(h->objects_gen, 0) != h->objects_gen_seen) {
        for (int i = 0; i < OBJ_CACHE; i++) {
            h->obj_cache[i].addr = NULL;
            Py_CLEAR(h->obj_cache[i].oid);
        }
        Py_XSETREF(h->objects_gen_seen, Py_NewRef(PyList_GET_ITEM(h->objects_gen, 0)));
    }
}

/* The cache slot of an object's address. */
static inline ObjSlot *
obj_slot(Hooks *h, PyObject *me)
{
    return &h->obj_cache[sk_spread((unsigned long long)(uintptr_t)me, OBJ_BITS)];
}

/* Remember what the dicts say for this object (oid borrowed). */
static void
obj_remember(Hooks *h, PyObject *me, PyObject *oid)
{
    if (h->objects_gen == NULL || !PyLong_CheckExact(oid)) {
        return;
    }
    long long v = PyLong_AsLongLong(oid);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return;
    }
    ObjSlot *s = obj_slot(h, me);
    Py_XSETREF(s->oid, Py_NewRef(oid));
    s->addr = (void *)me;
    s->type = Py_TYPE(me);
    s->oid_c = v;
}

/* The id shared by the instances of a class past INSTANCE_LIMIT (borrowed), or NULL (maybe with an error
   set). `overflow` only gains entries (keyed by the class's address): the answers are cached. */
static PyObject *
overflow_oid(Hooks *h, PyTypeObject *cls)
{
    size_t i = sk_spread((unsigned long long)(uintptr_t)cls, PAST_BITS);
    if (h->ovf_class[i] == (void *)cls && h->ovf_oid[i] != NULL) {
        return h->ovf_oid[i];
    }
    if (PyDict_GET_SIZE(h->overflow) == 0) {
        return NULL;
    }
    PyObject *k = PyLong_FromVoidPtr(cls);
    if (k == NULL) {
        return NULL;
    }
    PyObject *shared = PyDict_GetItemWithError(h->overflow, k);
    Py_DECREF(k);
    if (shared == NULL || !PyLong_CheckExact(shared) || PyObject_IsTrue(shared) != 1) {
        return NULL;
    }
    h->ovf_class[i] = (void *)cls;
    Py_XSETREF(h->ovf_oid[i], Py_NewRef(shared));
    return shared;
}

/* Run-local id of the receiver: the objects table first, as Recorder.receiver_id does. The cache in
   front of it answers as the dicts would (an entry leaving `objects` flushes it: objects_sync, reborn). */
static PyObject *
receiver_oid(Hooks *h, PyObject *me)
{
    objects_sync(h);
    ObjSlot *s = obj_slot(h, me);
    if (s->addr == (void *)me && s->type == Py_TYPE(me) && s->oid != NULL) {
        return Py_NewRef(s->oid);
    }
    PyObject *k = PyLong_FromVoidPtr(me);
    if (k == NULL) {
        return NULL;
    }
    PyObject *ent = PyDict_GetItemWithError(h->objects, k);
    Py_DECREF(k);
    if (ent != NULL && PyTuple_CheckExact(ent) && PyTuple_GET_SIZE(ent) == SK_OBJECT_ENTRY_SIZE) {
        if ((PyObject *)Py_TYPE(me) == PyTuple_GET_ITEM(ent, SK_OBJECT_ENTRY_CLASS)) {
            obj_remember(h, me, PyTuple_GET_ITEM(ent, SK_OBJECT_ENTRY_ID));
            return Py_NewRef(PyTuple_GET_ITEM(ent, SK_OBJECT_ENTRY_ID));
        }
    }
    else if (PyErr_Occurred()) {
        return NULL;
    }
    PyObject *shared = overflow_oid(h, Py_TYPE(me));  /* past INSTANCE_LIMIT: one id per class */
    if (shared != NULL) {
        obj_remember(h, me, shared);
        return Py_NewRef(shared);
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    /* Python decides (it may replace this address's entry): this address is not answered from the cache
       until the dicts are read again */
    s->addr = NULL;
    Py_CLEAR(s->oid);
    return PyObject_CallOneArg(h->receiver_id, me);
}

/* v as an int (new reference): the same object as the last time for this value, so that a dict whose key
   it is finds it by identity (no comparison, no fresh int). */
static PyObject *
node_long(Hooks *h, long long v)
{
    size_t i = sk_spread((unsigned long long)v, KEY_BITS);
    PyObject *o = h->node_obj[i];
    if (o != NULL && h->node_val[i] == v) {
        return Py_NewRef(o);
    }
    o = PyLong_FromLongLong(v);
    if (o != NULL) {
        Py_XSETREF(h->node_obj[i], Py_NewRef(o));
        h->node_val[i] = v;
    }
    return o;
}

/* A packed edge as an int, likewise. */
static PyObject *
edge_long(Hooks *h, unsigned long long v)
{
    size_t i = sk_spread(v, KEY_BITS);
    PyObject *o = h->edge_obj[i];
    if (o != NULL && h->edge_val[i] == v) {
        return Py_NewRef(o);
    }
    o = PyLong_FromUnsignedLongLong(v);
    if (o != NULL) {
        Py_XSETREF(h->edge_obj[i], Py_NewRef(o));
        h->edge_val[i] = v;
    }
    return o;
}

/* resumed_add into p[P_RESUMED] of resumed_p: 0, or -1 with an error set (the events not added are lost). */
static int
fold_resumed(Hooks *h)
{
    int err = 0;
    if (h->resumed_add && h->resumed_p != NULL) {
        PyObject *old = PyList_GET_ITEM(h->resumed_p, SK_P_RESUMED);
        PyObject *add = PyLong_FromLongLong(h->resumed_add);
        PyObject *sum = add != NULL ? PyNumber_Add(old, add) : NULL;  /* (Python may have added to it meanwhile) */
        Py_XDECREF(add);
        err = sum != NULL ? PyList_SetItem(h->resumed_p, SK_P_RESUMED, sum) : -1;  /* steals sum */
    }
    h->resumed_add = 0;
    Py_CLEAR(h->resumed_p);
    return err;
}

/* Write the edge table's counts into the p[P_COUNTS] dict of the state list they belong to (edge_p) and
   empty it, after the counted resumes' events (fold_resumed): 0, or -1 with an error set (the counts not
   written yet are lost; the caller contains it). */
static int
fold_counts(Hooks *h)
{
    int err = fold_resumed(h);
    PyObject *c = NULL;
    if (h->n_edges && err == 0) {
        c = PyList_GET_SIZE(h->edge_p) > SK_P_COUNTS ? PyList_GET_ITEM(h->edge_p, SK_P_COUNTS) : NULL;
        if (c == NULL || !PyDict_Check(c)) {
            PyErr_SetString(PyExc_RuntimeError, "unexpected thread state: no dict of counts");
            err = -1;
        }
    }
    for (int i = 0; i < h->n_edges; i++) {
        EdgeCount *s = &h->edge_tab[h->edge_used[i]];
        if (err == 0) {
            PyObject *k = edge_long(h, s->edge);
            PyObject *v = k ? PyLong_FromLongLong(s->total) : NULL;
            err = v ? PyDict_SetItem(c, k, v) : -1;
            Py_XDECREF(k);
            Py_XDECREF(v);
        }
        s->total = 0;
    }
    h->n_edges = 0;
    Py_CLEAR(h->edge_p);
    return err;
}

/* One more counted call of a packed edge of thread state p: *before gets the edge's count before it (as
   p[P_COUNTS][edge] would say). 0, or -1 with an error set. */
static int
count_edge(Hooks *h, PyObject *p, unsigned long long ev, long long *before)
{
    if (h->edge_p != p) {  /* another thread's counts: written out first (a table holds one thread's) */
        if (fold_counts(h) < 0) {
            return -1;
        }
        h->edge_p = Py_NewRef(p);
    }
    size_t i = sk_spread(ev, EDGE_BITS);
    while (h->edge_tab[i].total != 0) {
        if (h->edge_tab[i].edge == ev) {
            *before = h->edge_tab[i].total++;
            return 0;
        }
        i = (i + 1) & (EDGE_SLOTS - 1);
    }
    if (h->n_edges >= EDGE_FILL) {  /* half full: written out, started afresh */
        if (fold_counts(h) < 0) {
            return -1;
        }
        h->edge_p = Py_NewRef(p);
        i = sk_spread(ev, EDGE_BITS);
    }
    /* an edge new to the table: its count so far is the dict's */
    PyObject *c = PyList_GET_ITEM(p, SK_P_COUNTS);
    if (!PyDict_Check(c)) {
        PyErr_SetString(PyExc_RuntimeError, "unexpected thread state: no dict of counts");
        return -1;
    }
    PyObject *k = edge_long(h, ev);
    if (k == NULL) {
        return -1;
    }
    PyObject *v = PyDict_GetItemWithError(c, k);  /* (a defaultdict: no __missing__ here) */
    Py_DECREF(k);
    long long base = 0;
    if (v != NULL) {
        base = PyLong_AsLongLong(v);
        if (base == -1 && PyErr_Occurred()) {
            return -1;
        }
    }
    else if (PyErr_Occurred()) {
        return -1;
    }
    if (base < 0) {
        PyErr_SetString(PyExc_RuntimeError, "negative count of calls");
        return -1;
    }
    h->edge_tab[i].edge = ev;
    h->edge_tab[i].total = base + 1;
    h->edge_used[h->n_edges++] = (int)i;
    *before = base;
    return 0;
}

/* Does tracemalloc trace allocations now? Then records (Python objects) are flushed in small chunks,
   so that a program measuring its own memory growth does not see them pile up (Recorder.flush). */
static int
tracing(Hooks *h)
{
    if (h->is_tracing == NULL) {
        return 0;
    }
    PyObject *r = PyObject_CallNoArgs(h->is_tracing);
    if (r == NULL) {
        PyErr_Clear();
        return 0;
    }
    int on = r == Py_True;
    Py_DECREF(r);
    return on;
}

/* now(): a record's time in ns, 0 (or -1 with an error set). When `now` is time.perf_counter_ns (clock_direct),
   the clock it reads on Linux (CLOCK_MONOTONIC, in ns: CPython's py_get_monotonic_clock) is read here, without a
   Python call and without an int object. */
static inline int
now_value(Hooks *h, long long *t)
{
#ifdef __linux__
    struct timespec ts;
    if (h->clock_direct && clock_gettime(CLOCK_MONOTONIC, &ts) == 0) {
        *t = (long long)ts.tv_sec * 1000000000LL + (long long)ts.tv_nsec;
        return 0;
    }
#endif
    PyObject *v = PyObject_CallNoArgs(h->now);
    if (v == NULL) {
        return -1;
    }
    *t = PyLong_AsLongLong(v);
    Py_DECREF(v);
    return *t == -1 && PyErr_Occurred() ? -1 : 0;
}

static int flush_if_full(Hooks *h, int flush);

/* Append a record; flush the buffer when a chunk is full (as the Python callbacks do). */
static int
append_record(Hooks *h, PyObject *rec, int flush)
{
    if (rec == NULL) {
        return -1;
    }
    int err = PyList_Append(h->buf, rec);
    Py_DECREF(rec);
    if (err < 0) {
        return -1;
    }
    return flush_if_full(h, flush);
}

/* An event record (kind, idx, tid, t, detail, obj[, frame[, caller]]), as the tuple of append_record would be:
   `frame` NULL when the record has no frame field (then no caller either), `caller` NULL when it has none.
   Where the spill packs rows (h->rows), it is written as the row that tuple would be packed to, and the queue
   holds its place in the buffer (_rows.h SkRowQueue): no tuple, no int object. Else, or for a value a row
   cannot hold, the tuple. 0, or -1 with an error set. */
static int
append_event(Hooks *h, PyObject *kind, PyObject *idx, PyObject *tid, long long t, PyObject *detail,
             PyObject *obj, PyObject *frame, PyObject *caller, int flush)
{
    SkRowQueue *q = h->rows;
    SkRow row;
    if (q != NULL && sk_row_fill(&row, kind, idx, tid, detail, obj, frame, caller)) {
        row.t = t;
        Py_ssize_t len = q->buf.len;
        if (sk_queue_put(q, &row) < 0) {
            return -1;
        }
        if (PyList_Append(h->buf, (PyObject *)q) < 0) {
            sk_queue_unput(q, len);
            return -1;
        }
        return flush_if_full(h, flush);
    }
    PyObject *tv = PyLong_FromLongLong(t);
    if (tv == NULL) {
        return -1;
    }
    PyObject *rec;
    if (frame == NULL) {
        rec = PyTuple_Pack(SK_EV_SIZE, kind, idx, tid, tv, detail, obj);
    }
    else if (caller == NULL) {
        rec = PyTuple_Pack(SK_EV_SIZE_FRAME, kind, idx, tid, tv, detail, obj, frame);
    }
    else {
        rec = PyTuple_Pack(SK_EV_SIZE_CALLER, kind, idx, tid, tv, detail, obj, frame, caller);
    }
    Py_DECREF(tv);
    return append_record(h, rec, flush);
}

/* After an append: flush the buffer when a chunk is full (as the Python callbacks do). */
static int
flush_if_full(Hooks *h, int flush)
{
    Py_ssize_t size = PyList_GET_SIZE(h->buf);
    if (flush && (size >= PyLong_AsSsize_t(PyList_GET_ITEM(h->limit, 0)) || ((size & 255) == 0 && tracing(h)))) {
        if (h->flusher != NULL) {
            PyObject *busy = PyObject_GetAttr(h->flusher, h->s_flushing);
            int is_busy = busy == Py_True;
            Py_XDECREF(busy);
            if (is_busy) {
                return 0;  /* it would return at once */
            }
            PyErr_Clear();
        }
        PyObject *r = PyObject_CallNoArgs(h->flush);
        if (r == NULL) {
            return -1;
        }
        Py_DECREF(r);
    }
    return 0;
}

/* A variable of a running frame (new reference), without building f_locals where possible. */
static PyObject *
frame_var(PyFrameObject *frame, PyObject *name)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyFrame_GetVar(frame, name);
#else
    PyObject *locals = PyFrame_GetLocals(frame);
    if (locals == NULL) {
        return NULL;
    }
    PyObject *v = PyObject_GetItem(locals, name);
    Py_DECREF(locals);
    return v;
#endif
}

/* Past the cap, a thread whose counting stack is not yet seeded with its open frames
   (Recorder.seed): its next event goes to the Python callback, which seeds it. The entry points
   (the hooks, profile_fast) check it, once per event, before any *_core function runs. */
static inline int
needs_seed(Hooks *h, PyObject *p)
{
    return PyList_GET_ITEM(h->mode, 0) == Py_True && PyList_GET_SIZE(p) > SK_P_SEEDED
           && PyList_GET_ITEM(p, SK_P_SEEDED) != Py_True;
}

/* A call of traced code: 1 recorded or counted, 0 left to the Python callback (nothing
   changed), -1 error (to be contained). `frame` may be NULL: the current frame is fetched
   only when needed. */
/* The program's exception raised while a hook ran Python code, set aside until the hook's records are
   consistent with what CPython reports next (a call that raises is unwound: its call must be recorded). */
typedef struct {
    PyObject *type, *value, *tb;
} Pending;

/* With an exception set: set it aside when it is the program's (1), leave it set when it is ours (0). */
static int
set_aside(Hooks *h, Pending *e)
{
    if (!is_foreign(h)) {
        return 0;
    }
    if (e->type == NULL) {
        PyErr_Fetch(&e->type, &e->value, &e->tb);
    }
    else {
        PyErr_Clear();  /* a second one: the first is raised */
    }
    return 1;
}

/* Raise what was set aside (-1), or return r. */
static int
raise_pending(Pending *e, int r)
{
    if (e->type == NULL) {
        return r;
    }
    PyErr_Clear();
    PyErr_Restore(e->type, e->value, e->tb);
    e->type = e->value = e->tb = NULL;
    return -1;
}

/* Recorder.summarise_args(frame, names): the C summariser's args_json called from here when there is one (the
   method's own Python frame was ~2,000 instructions a summary). A summary it refuses (Unstorable) goes through
   the method, which handles it; any other error through Recorder.args_failed, the method's except clause (None
   and a gap, or the program's exception raised again). */
static PyObject *
args_summary(Hooks *h, PyFrameObject *frame, PyObject *names)
{
    if (h->args_json == NULL) {
        return PyObject_CallFunctionObjArgs(h->summarise_args, (PyObject *)frame, names, NULL);
    }
    PyObject *argv[2] = {(PyObject *)frame, names};
    PyObject *r = PyObject_Vectorcall(h->args_json, argv, 2, NULL);
    if (r != NULL) {
        return r;
    }
    if (PyErr_ExceptionMatches(h->unstorable)) {
        PyErr_Clear();
        return PyObject_CallFunctionObjArgs(h->summarise_args, (PyObject *)frame, names, NULL);
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) {
        PyException_SetTraceback(value, tb);
    }
    r = value != NULL ? PyObject_CallOneArg(h->args_failed, value) : NULL;
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    return r;
}

/* Recorder.summarise_return(idx, value): result_json from here, as args_summary; what it refuses (Unstorable)
   through the method, its other errors raised (the method does not catch them). */
static PyObject *
result_summary(Hooks *h, PyObject *idx, PyObject *value)
{
    if (h->result_json == NULL) {
        return PyObject_CallFunctionObjArgs(h->summarise_value, idx, value, NULL);
    }
    PyObject *argv[2] = {idx, value};
    PyObject *r = PyObject_Vectorcall(h->result_json, argv, 2, NULL);
    if (r == NULL && PyErr_ExceptionMatches(h->unstorable)) {
        PyErr_Clear();
        r = PyObject_CallFunctionObjArgs(h->summarise_value, idx, value, NULL);
    }
    return r;
}

static int
start_core(Hooks *h, PyObject *entry, PyObject *p, PyFrameObject *frame, PyObject *code)
{
    PyObject *idx = PyTuple_GET_ITEM(entry, SK_ENTRY_INDEX);
    PyObject *receiver = PyTuple_GET_ITEM(entry, SK_ENTRY_RECEIVER);
    int generator = PyObject_IsTrue(PyTuple_GET_ITEM(entry, SK_ENTRY_GENERATOR));
    PyObject *arg_names = PyTuple_GET_ITEM(entry, SK_ENTRY_ARG_NAMES);
    PyObject *obj = NULL;
    Pending pending = {NULL, NULL, NULL};
    if (receiver != Py_None) {
        PyObject *me = frame == NULL && code != NULL ? Py_XNewRef(fast_receiver(h, code)) : NULL;
        if (me == NULL && frame == NULL) {
            frame = PyEval_GetFrame();  /* borrowed: the traced function's frame */
        }
        if (me == NULL) {
            me = frame ? frame_var(frame, receiver) : NULL;
        }
        if (me == NULL) {  /* unbound receiver, no frame: the Python callback records why */
            PyErr_Clear();
            return 0;
        }
        obj = receiver_oid(h, me);
        Py_DECREF(me);
        if (obj == NULL) {
            if (!set_aside(h, &pending)) {
                return -1;
            }
            obj = Py_NewRef(h->zero);  /* interrupted: the function's own node */
        }
        else if (needs_seed(h, p)) {
            /* receiver_oid ran Python code (a new object's id), and another thread switched the run to counting
               meanwhile: this thread's stack is not seeded yet. The Python callback seeds it, then counts. */
            Py_DECREF(obj);
            return 0;
        }
    }
    else {
        obj = Py_NewRef(h->zero);
    }
    PyObject *tid = PyList_GET_ITEM(p, SK_P_TID);
    PyObject *summary = NULL, *fid = NULL, *key = NULL, *caller = NULL;
    long long t;
    int err;
    if (PyList_GET_ITEM(h->mode, 0) == Py_True) {  /* past the cap: count */
        PyObject *stack = PyList_GET_ITEM(p, SK_P_STACK);
        long long o = PyLong_AsLongLong(obj), ix = PyLong_AsLongLong(idx);
        if ((o == -1 || ix == -1) && PyErr_Occurred()) {
            goto error;
        }
        long long kv = o * h->span_c + ix;  /* the node key, as records.NODE_KEY_SPAN defines it */
        key = node_long(h, kv);
        if (key == NULL || !PyList_CheckExact(stack)) {
            goto error;
        }
        Py_ssize_t n = PyList_GET_SIZE(stack);
        if (n) {
            PyObject *top = PyList_GET_ITEM(stack, n - 1);
            int over = 0;  /* (AndOverflow: no byte-array conversion for a two-digit int) */
            long long tv = PyLong_AsLongLongAndOverflow(top, &over);
            if (over) {
                PyErr_SetString(PyExc_OverflowError, "node key too large");
            }
            if (tv == -1 && PyErr_Occurred()) {
                goto error;
            }
            if (tv < 0) {
                tv = -1 - tv;  /* a frame written as a record counts as its node */
            }
            PyObject *edge = NULL;
            long long cnt = 0;
            int err;
            if (tv < (1LL << SK_EDGE_SHIFT) && kv < (1LL << SK_EDGE_SHIFT)) {  /* in the C table (count_edge) */
                unsigned long long ev = ((unsigned long long)tv << SK_EDGE_SHIFT) | (unsigned long long)kv;
                if (count_edge(h, p, ev, &cnt) < 0) {
                    goto error;
                }
                /* the edge as an int only where it is kept: a first call's, a counted generator's */
                if ((cnt + 1 <= h->first_per_edge || generator) && (edge = edge_long(h, ev)) == NULL) {
                    goto error;
                }
            }
            else {
                PyObject *caller_key = PyLong_FromLongLong(tv);
                edge = caller_key ? PyTuple_Pack(2, caller_key, key) : NULL;
                Py_XDECREF(caller_key);
                if (edge == NULL) {
                    goto error;
                }
                PyObject *c = PyList_GET_ITEM(p, SK_P_COUNTS);
                PyObject *v = PyDict_GetItemWithError(c, edge);
                if (v != NULL) {
                    cnt = PyLong_AsLongLong(v);
                }
                else if (!PyErr_Occurred() && h->n_edges && fold_counts(h) < 0) {
                    /* a new key of the dict: the edges met before it go in first (the dict's order is the
                       order of the AGGREGATE record's entries) */
                    Py_DECREF(edge);
                    goto error;
                }
                PyObject *nv = PyErr_Occurred() ? NULL : PyLong_FromLongLong(cnt + 1);
                err = nv ? PyDict_SetItem(c, edge, nv) : -1;
                Py_XDECREF(nv);
                if (err < 0) {
                    Py_DECREF(edge);
                    goto error;
                }
            }
            /* One of the first calls of this edge (budget.py): recorded, with its arguments and its caller. */
            int first = cnt + 1 <= h->first_per_edge && PyList_GET_SIZE(p) > SK_P_SEEN;
            long long left = 0, seen = 0;
            PyObject *run_firsts = NULL;
            if (first) {
                left = PyLong_AsLongLong(PyList_GET_ITEM(h->reserve, 0));
                long long busy = PyLong_AsLongLong(PyList_GET_ITEM(h->importing, 0));
                run_firsts = PyList_GET_ITEM(p, SK_P_SEEN);  /* the run's firsts per edge (never reset) */
                PyObject *sv = PyDict_CheckExact(run_firsts) ? PyDict_GetItemWithError(run_firsts, edge) : NULL;
                seen = sv ? PyLong_AsLongLong(sv) : 0;
                if (PyErr_Occurred() || !PyDict_CheckExact(run_firsts)) {
                    Py_DECREF(edge);
                    goto error;
                }
                first = left > 0 && busy == 0 && seen < h->first_per_edge;
            }
            if (!first) {
                if (generator) {  /* its raise, wherever it is resumed from, belongs to this edge */
                    PyObject *d = gen_edges(p);
                    if (frame == NULL) {
                        frame = PyEval_GetFrame();
                    }
                    PyObject *gfid = d && frame ? PyLong_FromVoidPtr(frame) : NULL;
                    err = gfid ? PyDict_SetItem(d, gfid, edge) : 0;
                    Py_XDECREF(gfid);
                    if (err < 0 || PyErr_Occurred()) {
                        Py_DECREF(edge);
                        goto error;
                    }
                }
                Py_XDECREF(edge);  /* (NULL: a counted call of a packed edge, neither first nor generator) */
                if (PyList_Append(stack, key) < 0) {
                    goto error;
                }
                Py_DECREF(key);
                Py_DECREF(obj);
                return raise_pending(&pending, 1);
            }
            PyObject *ns = PyLong_FromLongLong(seen + 1);
            err = ns ? PyDict_SetItem(run_firsts, edge, ns) : -1;
            Py_XDECREF(ns);
            PyObject *f = PyList_GET_ITEM(p, SK_P_FIRSTS);
            PyObject *fv = err < 0 ? NULL : PyDict_GetItemWithError(f, edge);
            long long fcnt = fv ? PyLong_AsLongLong(fv) : 0;
            PyObject *nf = (err < 0 || PyErr_Occurred()) ? NULL : PyLong_FromLongLong(fcnt + 1);
            err = nf ? PyDict_SetItem(f, edge, nf) : -1;
            Py_XDECREF(nf);
            Py_DECREF(edge);
            PyObject *r2 = err < 0 ? NULL : PyLong_FromLongLong(left - 2);  /* the call and its return */
            if (r2 == NULL || PyList_SetItem(h->reserve, 0, r2) < 0) {  /* steals r2 */
                goto error;
            }
            caller = PyLong_FromLongLong(tv);
            if (caller == NULL) {
                goto error;
            }
        }
        PyObject *marker = node_long(h, -1 - kv);  /* written as a record: its return will be too */
        int err = marker ? PyList_Append(stack, marker) : -1;
        Py_XDECREF(marker);
        Py_CLEAR(key);
        if (err < 0) {
            goto error;
        }
        if (caller != NULL && PyTuple_CheckExact(arg_names) && PyTuple_GET_SIZE(arg_names) > 0) {
            if (frame == NULL) {
                frame = PyEval_GetFrame();
            }
            summary = frame ? args_summary(h, frame, arg_names) : Py_NewRef(Py_None);
            if (summary == NULL) {
                if (!set_aside(h, &pending)) {
                    goto error;
                }
                summary = Py_NewRef(Py_None);  /* interrupted by the program's exception: recorded without */
            }
        }
        else {
            summary = Py_NewRef(Py_None);
        }
    }
    else {
        long long calls = bump(h->state, 0);
        Py_ssize_t i = PyLong_AsSsize_t(idx);
        if (calls < 0 || i < 0 || i >= PyList_GET_SIZE(h->counts)) {
            goto error;
        }
        long long n = bump(h->counts, i);
        if (n < 0) {
            goto error;
        }
        if (PyTuple_CheckExact(arg_names) && PyTuple_GET_SIZE(arg_names) > 0 &&
                SK_SAMPLED(calls, n, h->first_calls, h->per_code, h->sample_every)) {
            if (frame == NULL) {
                frame = PyEval_GetFrame();
            }
            summary = frame ? args_summary(h, frame, arg_names) : Py_NewRef(Py_None);
            if (summary == NULL) {
                if (!set_aside(h, &pending)) {
                    goto error;
                }
                summary = Py_NewRef(Py_None);  /* interrupted by the program's exception: recorded without */
            }
        }
        else {
            summary = Py_NewRef(Py_None);
        }
    }
    if (now_value(h, &t) < 0) {
        goto error;
    }
    if (generator) {
        if (frame == NULL) {
            frame = PyEval_GetFrame();
        }
        fid = PyLong_FromVoidPtr(frame);
        err = fid == NULL || forget_gen_edge(p, fid) < 0 ? -1
              : append_event(h, h->kind_call, idx, tid, t, summary, obj, fid, caller, 1);
    }
    else {
        err = append_event(h, h->kind_call, idx, tid, t, summary, obj, caller != NULL ? Py_None : NULL, caller, 1);
    }
    Py_CLEAR(fid);
    Py_CLEAR(summary);
    Py_CLEAR(obj);
    Py_CLEAR(caller);
    if (err < 0) {
        goto error;
    }
    return raise_pending(&pending, 1);
error:
    Py_XDECREF(fid); Py_XDECREF(summary); Py_XDECREF(obj); Py_XDECREF(key); Py_XDECREF(caller);
    return raise_pending(&pending, -1);
}

/* Who created whom (capture/creations.py): the recorder's made.created(back, me), found once through
   receiver_id's recorder; NULL when there is none (Hooks made without a Recorder). */
static PyObject *
creation_hook(Hooks *h)
{
    if (h->created == NULL) {
        PyObject *rec = PyMethod_Check(h->receiver_id) ? PyMethod_GET_SELF(h->receiver_id) : NULL;
        PyObject *made = rec ? PyObject_GetAttrString(rec, "made") : NULL;
        h->created = made ? PyObject_GetAttrString(made, "created") : NULL;
        if (h->created != NULL) {  /* the fast path's state (creation_fast): never rebound by Creations */
            PyObject *limit = PyObject_GetAttrString(made, "limit");
            h->made_limit = limit ? PyLong_AsLongLong(limit) : -1;
            Py_XDECREF(limit);
            h->made_keys = PyObject_GetAttrString(made, "keys");
            h->made_counts = PyObject_GetAttrString(made, "counts");
            h->made_per_class = PyObject_GetAttrString(made, "per_class");
            if (h->made_limit < 0 || !h->made_keys || !PyDict_CheckExact(h->made_keys) || !h->made_counts
                    || !PyList_CheckExact(h->made_counts) || !h->made_per_class || !PyDict_CheckExact(h->made_per_class)) {
                Py_CLEAR(h->made_keys);  /* made.created alone, for every creation */
            }
        }
        Py_XDECREF(made);
        if (h->created == NULL) {
            h->created = Py_NewRef(Py_None);
        }
        PyErr_Clear();
    }
    return h->created == Py_None ? NULL : h->created;
}

/* Creations.counts[m->n] += m->pending (the creations the slot counted): 0, or -1 with an error set. */
static int
made_add(Hooks *h, MadeSlot *m)
{
    long long add = m->pending;
    m->pending = 0;
    if (h->made_counts == NULL || m->n < 0 || m->n >= PyList_GET_SIZE(h->made_counts)) {
        return 0;
    }
    return add_to(h->made_counts, m->n, add) < 0 ? -1 : 0;
}

/* Every creation counted in the cache slots goes into Creations.counts (before Creations.stop reads them, through
   fold(); at close): 0, or -1 with an error set (the rest are still added). */
static int
fold_made(Hooks *h)
{
    int err = 0;
    for (int k = 0; k < MADE_CACHE; k++) {
        if (h->made_cache[k].pending && made_add(h, &h->made_cache[k]) < 0) {
            err = -1;
        }
    }
    return err;
}

/* The common creation without Python (capture/creations.py Creations.created does the same): the creator
   is the calling frame, traced, with its receiver's id known; its (creator, class) key seen before; the
   class past the objects whose own creator is kept. 1 counted, 0 left to made.created, -1 error.
   The calling frame is `bcode` (its code, borrowed; NULL: none) and either its mirror `bm` (frameless) or
   its frame object `back`. */
static int
creation_fast(Hooks *h, PyObject *bcode, void *bm, PyFrameObject *back, PyObject *me)
{
    if (bcode == NULL || h->made_keys == NULL) {
        return 0;
    }
    PyTypeObject *cls = Py_TYPE(me);
    void **past = &h->past_class[sk_spread((unsigned long long)(uintptr_t)cls, PAST_BITS)];
    if (*past != (void *)cls) {  /* not known past the limit yet: Creations.per_class (it only grows) */
        PyObject *kcls = PyLong_FromVoidPtr(cls);
        if (kcls == NULL) {
            return -1;
        }
        PyObject *seen = PyDict_GetItemWithError(h->made_per_class, kcls);
        Py_DECREF(kcls);
        long long n_seen = seen != NULL ? PyLong_AsLongLong(seen) : 0;
        if (PyErr_Occurred()) {
            return -1;
        }
        if (n_seen < h->made_limit) {
            return 0;
        }
        *past = (void *)cls;
    }
    PyObject *entry = code_entry(h, bcode);  /* borrowed */
    if (entry == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    PyObject *receiver = PyTuple_GET_ITEM(entry, SK_ENTRY_RECEIVER);
    PyObject *oid = NULL;
    if (receiver == Py_None) {
        oid = Py_NewRef(h->zero);
    }
    else {
        PyObject *them = NULL;
#if SK_FAST_LOCALS
        if (bm != NULL) {  /* code_entry just cached bcode, with its receiver's index (-1: a cell, not read so) */
            int ix = code_recv(&h->codes, bcode);
            them = ix >= 0 ? Py_XNewRef(((SkFrame *)bm)->localsplus[ix]) : NULL;
        }
        else
#endif
        if (back != NULL) {
            them = frame_var(back, receiver);
        }
        if (them == NULL) {
            PyErr_Clear();  /* its receiver's name was deleted (del self), or not read so: made.created decides */
            return 0;
        }
        /* as actor.traced_actor: a receiver set to None is the callable's own node */
        oid = them == Py_None ? Py_NewRef(h->zero) : receiver_oid(h, them);  /* may run Recorder.receiver_id */
        Py_DECREF(them);
        if (oid == NULL) {
            return -1;
        }
    }
    long long o = PyLong_AsLongLong(oid), ix = PyLong_AsLongLong(PyTuple_GET_ITEM(entry, SK_ENTRY_INDEX));
    if (PyErr_Occurred()) {
        Py_DECREF(oid);
        return -1;
    }
    /* Creations.keys never loses a key nor renumbers one: (code index, object id, class) -> its number */
    MadeSlot *m = &h->made_cache[sk_spread((unsigned long long)ix ^ ((unsigned long long)o << 24)
                                     ^ (unsigned long long)(uintptr_t)cls, MADE_BITS)];
    if (m->type == (void *)cls && m->ix == ix && m->oid == o) {
        Py_DECREF(oid);
        m->pending++;  /* counted here: added to Creations.counts by fold_made */
        return 1;
    }
    PyObject *kcls = PyLong_FromVoidPtr(cls);
    PyObject *key = kcls ? PyTuple_Pack(3, PyTuple_GET_ITEM(entry, SK_ENTRY_INDEX), oid, kcls) : NULL;
    Py_XDECREF(kcls);
    Py_DECREF(oid);
    PyObject *n = key ? PyDict_GetItemWithError(h->made_keys, key) : NULL;
    Py_XDECREF(key);
    Py_ssize_t i = n != NULL && PyLong_CheckExact(n) ? PyLong_AsSsize_t(n) : -1;
    if (i < 0 || i >= PyList_GET_SIZE(h->made_counts)) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (m->pending && made_add(h, m) < 0) {  /* the slot's key before: its counts go in first */
        return -1;
    }
    m->type = (void *)cls;
    m->ix = ix;
    m->oid = o;
    m->n = i;
    m->pending = 1;
    return 1;
}

/* The receiver name of the watched __init__ `code` (borrowed: inits keeps it), with its receiver's index in the
   fast locals in *recv; NULL when `code` is not one (or an error, set). Found in the cache, else in inits (then
   cached). */
static PyObject *
watched_lookup(Hooks *h, PyObject *code, int *recv)
{
    Py_ssize_t slot = code_hit(&h->watched, code);
    if (slot >= 0) {
        *recv = h->watched.recv[slot];
        return h->watched.value[slot];
    }
    PyObject *k = PyLong_FromVoidPtr(code);
    if (k == NULL) {
        return NULL;
    }
    PyObject *name = PyDict_GetItemWithError(h->inits, k);
    Py_DECREF(k);
    if (name == NULL) {
        return NULL;
    }
    *recv = receiver_index(h, code, name);
    code_put(&h->watched, code, name, *recv);  /* the recorder keeps watched code alive (keep_alive) */
    return name;
}

/* watched_lookup for the frame below an __init__ (`bc`, borrowed): NULL (no exception) when it is not a watched
   __init__, as it is not when it is traced code (the common creator). */
static PyObject *
watched_name(Hooks *h, PyObject *bc, int *recv)
{
    if (code_hit(&h->watched, bc) < 0 && code_entry(h, bc) != NULL) {
        return NULL;
    }
    PyErr_Clear();
    PyObject *name = watched_lookup(h, bc, recv);
    PyErr_Clear();
    return name;
}

/* `me` is a new object (reborn): its cached id and its entry go, its creation is counted. The calling frame is
   `bcode` (borrowed; NULL: none) with its mirror `bm` or its frame object `back` (creation_fast). 1, or -1. */
static int
reborn_new(Hooks *h, PyObject *me, PyObject *bcode, void *bm, PyFrameObject *back)
{
    int rc = 1;
    ObjSlot *slot = obj_slot(h, me);  /* its cached id goes with its entry (a new id) */
    slot->addr = NULL;
    Py_CLEAR(slot->oid);
    if (PyDict_GET_SIZE(h->objects) > 0 && (h->addrs == NULL || addr_maybe(h->addrs, (uintptr_t)me))) {
        PyObject *key = PyLong_FromVoidPtr(me);
        int known = key ? PyDict_Contains(h->objects, key) : -1;
        if (known == 1 && PyDict_DelItem(h->objects, key) < 0) {
            known = -1;
        }
        Py_XDECREF(key);
        rc = known < 0 ? -1 : 1;
        if (rc == 1 && h->addrs != NULL) {
            addr_remove(h->addrs, (uintptr_t)me);  /* no entry there now */
        }
    }
    if (rc == 1) {  /* no entry at its address now: the dicts answer its class's shared id, if any */
        PyObject *shared = overflow_oid(h, Py_TYPE(me));
        if (shared != NULL) {
            obj_remember(h, me, shared);  /* its methods, called next, find it */
        }
        else if (PyErr_Occurred()) {
            rc = -1;
        }
    }
    PyObject *created = rc == 1 ? creation_hook(h) : NULL;
    int fast = created != NULL ? creation_fast(h, bcode, bm, back, me) : 0;
    if (fast < 0) {
        rc = -1;
    }
    else if (created != NULL && fast == 0) {
        PyFrameObject *caller = back;
        if (bm != NULL) {  /* frameless so far: made.created walks frames, so make them now */
            PyFrameObject *current = PyEval_GetFrame();  /* borrowed: the __init__'s own frame */
            caller = current != NULL ? PyFrame_GetBack(current) : NULL;
        }
        PyObject *r = PyObject_CallFunctionObjArgs(created, caller ? (PyObject *)caller : Py_None, me, NULL);
        if (r == NULL) {
            rc = -1;
        }
        Py_XDECREF(r);
        if (bm != NULL) {
            Py_XDECREF(caller);
        }
    }
    return rc;
}

#if SK_FAST_LOCALS
/* reborn without frame objects (3.12/3.13, a PY_START callback): the __init__'s receiver and its caller read
   through the frame mirror (PyEval_GetFrame and PyFrame_GetBack make a frame object each, and the frames pay
   again to free them: ~1,000 instructions per object created). -2: not read so (nothing done yet: the frame
   objects' way does it all); else as reborn. `ix`: the receiver's index in the fast locals of `code`. */
static int
reborn_mirror(Hooks *h, PyObject *code, int ix)
{
    SkFrame *f = running_frame();
    if (ix < 0 || f == NULL || f->code != code) {
        return -2;
    }
    PyObject *me = f->localsplus[ix];
    if (me == NULL) {
        return 1;  /* unbound (as frame_var failing) */
    }
    Py_INCREF(me);
    int same = 0;
    SkFrame *b = caller_frame(f);
    PyObject *bc = b != NULL && b->code != NULL && PyCode_Check(b->code) ? b->code : NULL;
    if (bc != NULL) {
        int bix = -1;
        if (watched_name(h, bc, &bix) != NULL) {  /* an __init__ calling an __init__: of the same object? */
            if (bix < 0) {
                Py_DECREF(me);
                return -2;
            }
            same = b->localsplus[bix] == me;
        }
    }
    int rc = same ? 1 : reborn_new(h, me, bc, b, NULL);
    Py_DECREF(me);
    return rc;
}
#endif

/* A project __init__ starts (Recorder.reborn): 1 when `code` is one (handled), 0 when not, -1 error.
   Unless the caller is an __init__ of the same object (super().__init__()), it is a new object: its
   creation is recorded (creation_hook) and, at an address seen before, its old entry goes (a new id). */
static int
reborn(Hooks *h, PyObject *code, PyFrameObject *frame)
{
    if (h->inits == NULL || PyDict_GET_SIZE(h->inits) == 0) {
        return 0;
    }
    int recv = -1;
    PyObject *name = watched_lookup(h, code, &recv);
    if (name == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
#if SK_FAST_LOCALS
    if (frame == NULL && h->fast_back) {
        int r = reborn_mirror(h, code, recv);
        if (r != -2) {
            return r;
        }
    }
#else
    (void)recv;
#endif
    if (frame == NULL) {
        frame = PyEval_GetFrame();
    }
    PyObject *me = frame ? frame_var(frame, name) : NULL;
    if (me == NULL) {
        PyErr_Clear();
        return 1;
    }
    int same = 0, rc = 1;
    PyFrameObject *back = PyFrame_GetBack(frame);
    PyCodeObject *bc = back != NULL ? PyFrame_GetCode(back) : NULL;
    if (bc != NULL) {
        int unused;
        PyObject *bname = watched_name(h, (PyObject *)bc, &unused);
        if (bname != NULL) {
            PyObject *them = frame_var(back, bname);
            same = them == me;
            Py_XDECREF(them);
        }
        PyErr_Clear();
    }
    if (!same) {
        rc = reborn_new(h, me, (PyObject *)bc, NULL, back);
    }
    Py_XDECREF(bc);
    Py_XDECREF(back);
    Py_DECREF(me);
    return rc;
}

/* Hand an event to a Python callback: the counts in the edge table go into their dict first (the Python
   callbacks read and write p[P_COUNTS]). */
static PyObject *
hand_over(Hooks *h, PyObject *py, PyObject *const *args, Py_ssize_t nargs, const char *event)
{
    if (h->n_edges && fold_counts(h) < 0) {
        PyObject *none = contain(h, event);
        if (none == NULL) {
            return NULL;
        }
        Py_DECREF(none);
    }
    return PyObject_Vectorcall(py, args, nargs, NULL);
}

static PyObject *
start_hook(Hooks *h, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "PY_START takes (code, offset)");
        return NULL;
    }
    if (code_hit(&h->watched, args[0]) >= 0) {  /* a watched __init__ */
        if (reborn(h, args[0], NULL) < 0) {
            return contain(h, "PY_START");
        }
        Py_RETURN_NONE;
    }
    PyObject *entry = code_entry(h, args[0]);
    if (entry == NULL) {
        if (PyErr_Occurred()) {
            return contain(h, "PY_START");
        }
        int r = reborn(h, args[0], NULL);
        if (r < 0) {
            return contain(h, "PY_START");
        }
        if (r) {
            Py_RETURN_NONE;
        }
        return hand_over(h, h->py_start, args, nargs, "PY_START");  /* decide, DISABLE */
    }
    PyObject *p = thread_p(h);
    if (p == NULL) {
        if (is_foreign(h)) {
            return NULL;  /* a signal handler's exception, KeyboardInterrupt...: the program's */
        }
        PyErr_Clear();
        return hand_over(h, h->py_start, args, nargs, "PY_START");
    }
    int r = needs_seed(h, p) ? 0 : start_core(h, entry, p, NULL, args[0]);
    if (r < 0) {
        return contain(h, "PY_START");
    }
    if (r == 0) {
        return hand_over(h, h->py_start, args, nargs, "PY_START");
    }
    Py_RETURN_NONE;
}

/* A normal return (kind_return) or a yield (kind_yield) of traced code, not an exception
   leaving it: 0 done, -1 error. When the program's exception interrupts the summary, the exit is not
   recorded (CPython reports the frame's exception exit next), unless `keep` (a profile function on
   3.11, where nothing follows a failed 'return'): then it is recorded without the summary. */
static int
return_core(Hooks *h, PyObject *entry, PyObject *p, PyFrameObject *frame, PyObject *retval, PyObject *kind, int keep)
{
    Pending pending = {NULL, NULL, NULL};
    int counting = PyList_GET_ITEM(h->mode, 0) == Py_True;
    if (counting) {
        PyObject *stack = PyList_GET_ITEM(p, SK_P_STACK);
        Py_ssize_t n = PyList_CheckExact(stack) ? PyList_GET_SIZE(stack) : 0;
        if (n) {
            PyObject *top = PyList_GET_ITEM(stack, n - 1);
            int counted;
            if (PyLong_CheckExact(top)) {  /* node keys are ints: a sign, no comparison */
                int over = 0;
                long long tv = PyLong_AsLongLongAndOverflow(top, &over);  /* (no error for an int) */
                counted = over ? over > 0 : tv >= 0;
            }
            else {
                counted = PyObject_RichCompareBool(top, h->zero, Py_GE);
            }
            if (counted < 0) {
                return -1;
            }
            Py_SET_SIZE(stack, n - 1);  /* stack.pop(): the list keeps its room */
            Py_DECREF(top);
            if (counted) {
                return 0;  /* a counted call (or a counted generator, suspended) */
            }
        }
    }
    PyObject *idx = PyTuple_GET_ITEM(entry, SK_ENTRY_INDEX);
    PyObject *detail = NULL, *fid = NULL;
    long long t;
    int err;
    if (!counting) {
        Py_ssize_t i = PyLong_AsSsize_t(idx);
        if (i < 0 || i >= PyList_GET_SIZE(h->counts)) {
            return -1;
        }
        long long n = PyLong_AsLongLong(PyList_GET_ITEM(h->counts, i));
        long long calls = PyLong_AsLongLong(PyList_GET_ITEM(h->state, 0));
        if (PyErr_Occurred()) {
            return -1;
        }
        if (SK_SAMPLED(calls, n, h->first_calls, h->per_code, h->sample_every)) {
            detail = result_summary(h, idx, retval);
            if (detail == NULL && (!keep || !set_aside(h, &pending))) {
                return -1;
            }
        }
    }
    if (detail == NULL) {
        detail = Py_NewRef(Py_None);
    }
    if (now_value(h, &t) < 0) {
        Py_DECREF(detail);
        return raise_pending(&pending, -1);
    }
    PyObject *tid = PyList_GET_ITEM(p, SK_P_TID);
    if (kind != h->kind_return || PyObject_IsTrue(PyTuple_GET_ITEM(entry, SK_ENTRY_GENERATOR))) {
        fid = PyLong_FromVoidPtr(frame ? frame : PyEval_GetFrame());
        err = fid ? append_event(h, kind, idx, tid, t, detail, h->zero, fid, NULL, 0) : -1;
        Py_XDECREF(fid);
    }
    else {
        err = append_event(h, kind, idx, tid, t, detail, h->zero, NULL, NULL, 0);
    }
    Py_DECREF(detail);
    return raise_pending(&pending, err);
}

/* PY_RETURN and PY_YIELD: a frame leaves normally (kind_return) or suspends (kind_yield). */
static PyObject *
leave_hook(Hooks *h, PyObject *const *args, Py_ssize_t nargs, PyObject *py, PyObject *kind, const char *event)
{
    if (py == NULL || nargs != 3) {
        PyErr_Format(PyExc_TypeError, "%s takes (code, offset, value) and needs its Python callback", event);
        return NULL;
    }
    PyObject *entry = code_entry(h, args[0]);
    if (entry == NULL) {
        PyErr_Clear();
        return PyObject_Vectorcall(py, args, nargs, NULL);
    }
    PyObject *p = thread_p(h);
    if (p == NULL) {
        if (is_foreign(h)) {
            return NULL;
        }
        PyErr_Clear();
        return PyObject_Vectorcall(py, args, nargs, NULL);
    }
    if (needs_seed(h, p)) {
        return PyObject_Vectorcall(py, args, nargs, NULL);
    }
    if (return_core(h, entry, p, NULL, args[2], kind, 0) < 0) {
        return contain(h, event);
    }
    Py_RETURN_NONE;
}

static PyObject *
hooks_return(Hooks *h, PyObject *const *args, Py_ssize_t nargs)
{
    int old = headroom_open();
    PyObject *r = leave_hook(h, args, nargs, h->py_return, h->kind_return, "PY_RETURN");
    headroom_close(old);
    return r;
}

static PyObject *
hooks_yield(Hooks *h, PyObject *const *args, Py_ssize_t nargs)
{
    int old = headroom_open();
    PyObject *r = leave_hook(h, args, nargs, h->py_yield, h->kind_yield, "PY_YIELD");
    headroom_close(old);
    return r;
}

/* A generator or coroutine resumed (not by a throw): 1 done, 0 left to the Python callback
   (nothing changed), -1 error. As _resumed() in sysmon.py: past the cap the resumed frame goes
   on the counting stack (as the caller of what it calls next); it is written as a record only
   when nothing traced is below it. */
static int
resume_core(Hooks *h, PyObject *entry, PyObject *p, PyFrameObject *frame, int flush)
{
    if (frame == NULL) {
        frame = PyEval_GetFrame();  /* borrowed: the resumed frame */
    }
    if (frame == NULL) {
        return 0;
    }
    PyObject *idx = PyTuple_GET_ITEM(entry, SK_ENTRY_INDEX);
    Pending pending = {NULL, NULL, NULL};
    if (PyList_GET_ITEM(h->mode, 0) == Py_True) {
        PyObject *receiver = PyTuple_GET_ITEM(entry, SK_ENTRY_RECEIVER);
        long long o = 0;
        if (receiver != Py_None) {
            PyObject *me = frame_var(frame, receiver);
            if (me == NULL) {
                PyErr_Clear();
                return 0;  /* the Python callback records why */
            }
            PyObject *obj = receiver_oid(h, me);
            Py_DECREF(me);
            if (obj == NULL) {
                if (!set_aside(h, &pending)) {
                    return -1;
                }
                obj = Py_NewRef(h->zero);  /* interrupted: the function's own node, still pushed */
            }
            else if (PyList_GET_ITEM(h->mode, 0) != Py_True || needs_seed(h, p)) {
                /* receiver_oid ran Python code, and another thread switched the run back to recording (the
                   stacks were emptied) or its seeding is due: the Python callback decides, on the new state */
                Py_DECREF(obj);
                return 0;
            }
            o = PyLong_AsLongLong(obj);
            Py_DECREF(obj);
        }
        long long ix = PyLong_AsLongLong(idx);
        if ((o == -1 || ix == -1) && PyErr_Occurred()) {
            return raise_pending(&pending, -1);
        }
        PyObject *stack = PyList_GET_ITEM(p, SK_P_STACK);
        if (!PyList_CheckExact(stack)) {
            return raise_pending(&pending, -1);
        }
        long long kv = o * h->span_c + ix;
        int written = PyList_GET_SIZE(stack) == 0;  /* nothing traced below it: written as a record */
        if (!written && PyList_GET_SIZE(p) > SK_P_RESUMED) {  /* this resume and the exit after it: 2 events */
            if (h->resumed_p != p) {  /* another thread's: its events go to its p first */
                if (fold_resumed(h) < 0) {
                    return raise_pending(&pending, -1);
                }
                h->resumed_p = Py_NewRef(p);
            }
            h->resumed_add += 2;  /* (fold_counts adds them to p[P_RESUMED]) */
        }
        /* (a counted resume's key from node_long's cache, as start_core pushes it: no fresh int per resume) */
        PyObject *key = written ? PyLong_FromLongLong(-1 - kv) : node_long(h, kv);
        int err = key ? PyList_Append(stack, key) : -1;
        Py_XDECREF(key);
        if (err < 0) {
            return raise_pending(&pending, -1);
        }
        if (!written) {
            return raise_pending(&pending, 1);
        }
    }
    long long t;
    if (now_value(h, &t) < 0) {
        return raise_pending(&pending, -1);
    }
    PyObject *fid = PyLong_FromVoidPtr(frame);
    int err = fid ? append_event(h, h->kind_resume, idx, PyList_GET_ITEM(p, SK_P_TID), t, Py_None, h->zero, fid, NULL,
                                 flush) : -1;
    Py_XDECREF(fid);
    return raise_pending(&pending, err < 0 ? -1 : 1);
}

static PyObject *
resume_hook(Hooks *h, PyObject *const *args, Py_ssize_t nargs)
{
    if (h->py_resume == NULL || nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "PY_RESUME takes (code, offset) and needs py_resume");
        return NULL;
    }
    PyObject *entry = code_entry(h, args[0]);
    if (entry == NULL) {
        PyErr_Clear();
        return PyObject_Vectorcall(h->py_resume, args, nargs, NULL);
    }
    PyObject *p = thread_p(h);
    if (p == NULL) {
        if (is_foreign(h)) {
            return NULL;
        }
        PyErr_Clear();
        return PyObject_Vectorcall(h->py_resume, args, nargs, NULL);
    }
    int r = needs_seed(h, p) ? 0 : resume_core(h, entry, p, NULL, 1);
    if (r < 0) {
        return contain(h, "PY_RESUME");
    }
    if (r == 0) {
        return PyObject_Vectorcall(h->py_resume, args, nargs, NULL);
    }
    Py_RETURN_NONE;
}

static PyObject *
hooks_start(Hooks *h, PyObject *const *args, Py_ssize_t nargs)
{
    int old = headroom_open();
    PyObject *r = start_hook(h, args, nargs);
    headroom_close(old);
    return r;
}

static PyObject *
hooks_resume(Hooks *h, PyObject *const *args, Py_ssize_t nargs)
{
    int old = headroom_open();
    PyObject *r = resume_hook(h, args, nargs);
    headroom_close(old);
    return r;
}

static PyObject *
hooks_close(Hooks *h, PyObject *unused)
{
    /* Drop this capture's state from the calling thread (other threads drop theirs when they end). */
    PyObject *d = PyThreadState_GetDict();
    if (d != NULL && h->tls_key != NULL && PyDict_DelItem(d, h->tls_key) < 0) {
        PyErr_Clear();
    }
    Py_CLEAR(h->tp_p);
    if (fold_counts(h) < 0 || fold_made(h) < 0) {  /* the counts go to their dicts (Counting.checkpoint reads them next) */
        return contain(h, "close");
    }
    Py_RETURN_NONE;
}

static PyObject *
hooks_fold(Hooks *h, PyObject *unused)
{
    if (fold_counts(h) < 0 || fold_made(h) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* What on_unwind (sysmon.py) does for the commonest exits by an exception, without Python: 1 done, 0 left to the
   Python callback (nothing changed), -1 error. A frame of untraced code while no module body is being imported
   (PY_UNWIND is a global event: every frame an exception leaves): nothing. Past the cap, a counted call of a
   traced function (not a generator's, not a close) that a counted frame made: its call comes off the counting
   stack and its raise is counted on that edge, p[P_RAISED][(caller key, key)] += 1. Anything else (a recorded
   frame, a generator, GeneratorExit, a thread not seeded yet, an error here) is the Python callback's. */
static int
unwind_core(Hooks *h, PyObject *code, PyObject *exc)
{
    PyObject *entry = code_entry(h, code);  /* borrowed */
    if (entry == NULL) {
        if (PyErr_Occurred() || h->importing == NULL) {
            PyErr_Clear();
            return 0;
        }
        int importing = PyObject_IsTrue(PyList_GET_ITEM(h->importing, 0));
        if (importing < 0) {
            PyErr_Clear();
        }
        return importing == 0;  /* an import failing: import_ended, in Python */
    }
    if (PyList_GET_ITEM(h->mode, 0) != Py_True || PyErr_GivenExceptionMatches(exc, PyExc_GeneratorExit)) {
        return 0;
    }
    int generator = PyObject_IsTrue(PyTuple_GET_ITEM(entry, SK_ENTRY_GENERATOR));
    if (generator != 0) {
        PyErr_Clear();
        return 0;
    }
    PyObject *p = thread_p(h);  /* borrowed */
    if (p == NULL) {
        PyErr_Clear();
        return 0;
    }
    PyObject *stack = PyList_GET_ITEM(p, SK_P_STACK);
    if (PyList_GET_ITEM(p, SK_P_SEEDED) != Py_True || !PyList_CheckExact(stack) || PyList_GET_SIZE(stack) == 0) {
        return 0;
    }
    Py_ssize_t n = PyList_GET_SIZE(stack);
    PyObject *top = PyList_GET_ITEM(stack, n - 1);
    int over = 0;
    long long key = PyLong_CheckExact(top) ? PyLong_AsLongLongAndOverflow(top, &over) : -1;
    if (!(over > 0 || (over == 0 && key >= 0))) {
        return 0;  /* a recorded frame's marker (negative): its exit is recorded, in Python */
    }
    if (n > 1) {
        PyObject *raised = PyList_GET_ITEM(p, SK_P_RAISED);  /* a defaultdict(int) */
        PyObject *edge = PyDict_Check(raised) ? PyTuple_Pack(2, PyList_GET_ITEM(stack, n - 2), top) : NULL;
        PyObject *one = edge != NULL ? PyLong_FromLong(1) : NULL;
        int err = one == NULL || sk_count_add(raised, edge, one) < 0;
        Py_XDECREF(one);
        Py_XDECREF(edge);
        if (err) {
            PyErr_Clear();
            return 0;
        }
    }
    Py_SET_SIZE(stack, n - 1);  /* stack.pop() */
    Py_DECREF(top);
    return 1;
}

/* PY_UNWIND: unwind_core, else the Python callback (through its Guard). */
static PyObject *
hooks_unwind(Hooks *h, PyObject *const *args, Py_ssize_t nargs)
{
    if (h->py_unwind == NULL || nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "PY_UNWIND takes (code, offset, exception) and needs set_unwind()");
        return NULL;
    }
    int old = headroom_open();
    int done = unwind_core(h, args[0], args[2]);
    headroom_close(old);
    if (done < 0) {
        return NULL;
    }
    if (done) {
        Py_RETURN_NONE;
    }
    return PyObject_Vectorcall(h->py_unwind, args, (size_t)nargs, NULL);
}

static PyObject *
hooks_set_unwind(Hooks *h, PyObject *fn)
{
    if (!PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "set_unwind takes the Python PY_UNWIND callback");
        return NULL;
    }
    Py_XSETREF(h->py_unwind, Py_NewRef(fn));
    Py_RETURN_NONE;
}

static PyMethodDef hooks_methods[] = {
    {"close", (PyCFunction)hooks_close, METH_NOARGS, "Forget this capture's state in the calling thread."},
    {"fold", (PyCFunction)hooks_fold, METH_NOARGS,
     "Write the calls counted in C into the threads' p[P_COUNTS] dicts (Counting.checkpoint calls it first)."},
    {"start", (PyCFunction)(void (*)(void))hooks_start, METH_FASTCALL, "PY_START callback."},
    {"ret", (PyCFunction)(void (*)(void))hooks_return, METH_FASTCALL, "PY_RETURN callback."},
    {"yield_", (PyCFunction)(void (*)(void))hooks_yield, METH_FASTCALL, "PY_YIELD callback."},
    {"resume", (PyCFunction)(void (*)(void))hooks_resume, METH_FASTCALL, "PY_RESUME callback."},
    {"unwind", (PyCFunction)(void (*)(void))hooks_unwind, METH_FASTCALL,
     "PY_UNWIND callback: untraced frames and counted calls here, the rest to set_unwind()'s callback."},
    {"set_unwind", (PyCFunction)hooks_set_unwind, METH_O, "The Python PY_UNWIND callback (behind its Guard)."},
    {NULL}
};

static PyMemberDef hooks_members[] = {
    {"fast_locals", T_INT, offsetof(Hooks, fast_locals), READONLY,
     "1: receivers are read from the running frame's fast locals, without a frame object (3.12, 3.13)"},
    {"rows", T_OBJECT, offsetof(Hooks, rows), READONLY,
     "The RowQueue that event records go to as rows, or None (tuples in the record buffer)"},
    {NULL}
};

static PyTypeObject HooksType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "skeleton_replay.capture._speedups.Hooks",
    .tp_basicsize = sizeof(Hooks),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "C fast paths for calls and returns of traced code over a Recorder's state: the PY_START and "
              "PY_RETURN callbacks (sys.monitoring), and the traced-code path of ProfileHook.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)hooks_init,
    .tp_dealloc = (destructor)hooks_dealloc,
    .tp_methods = hooks_methods,
    .tp_members = hooks_members,
    .tp_weaklistoffset = offsetof(Hooks, weakrefs),  /* Counting.count_tables: no cycle through the Recorder */
};


/* ------------------------------------------------------------ ProfileHook */

#define UNTRACED_BITS 12
#define UNTRACED_CACHE (1 << UNTRACED_BITS)

typedef struct {
    PyObject_HEAD
    PyObject *profiler;   /* the Python profiler: profiler(frame, event, arg) */
    PyObject *table;      /* traced code ids */
    PyObject *untraced;   /* code ids decided untraced */
    PyObject *modules;    /* code ids of module bodies being imported: their 'return' goes to the profiler */
    Hooks *hooks;         /* fast paths for calls and returns of traced code, or NULL */
    void *untraced_cache[UNTRACED_CACHE];  /* code known untraced (the untraced dict keeps it alive) */
    char return_ops[256]; /* opcodes of a normal return (else a 'return' event is an exception leaving) */
    char yield_ops[256];  /* opcodes of a yield */
    PyObject *suspended;  /* the Python profiler's set of frame ids of generators suspended at a yield, or NULL */
    PyObject *closing;    /* its set of frame ids of generators closed where none of their code runs (closing.py) */
    PyObject *ev_call, *ev_return;
    /* I/O probes (capture/boundaries.py, 3.11): [probe(frame, builtin), watched builtins...], or NULL. A C call
       of a watched builtin (matched by its PyMethodDef: print, a stream's write, sqlite3's execute) goes to the
       probe; the PyMethodDefs are re-read when the list's length changes. */
    PyObject *c_watch;
    Py_ssize_t c_watch_n;
    int c_nml;
    PyMethodDef *c_mls[32];
} ProfileHook;

static void
profile_dealloc(ProfileHook *self)
{
    Py_XDECREF(self->profiler); Py_XDECREF(self->table); Py_XDECREF(self->untraced); Py_XDECREF(self->modules);
    Py_XDECREF(self->hooks); Py_XDECREF(self->ev_call); Py_XDECREF(self->ev_return); Py_XDECREF(self->suspended);
    Py_XDECREF(self->c_watch); Py_XDECREF(self->closing);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* table[op] = 1 for each opcode in the iterable `ops` (None or NULL: none). */
static int
opcode_table(PyObject *ops, char *table)
{
    memset(table, 0, 256);
    if (ops == NULL || ops == Py_None) {
        return 0;
    }
    PyObject *it = PyObject_GetIter(ops);
    if (it == NULL) {
        return -1;
    }
    PyObject *op;
    while ((op = PyIter_Next(it)) != NULL) {
        long v = PyLong_AsLong(op);
        Py_DECREF(op);
        if (v >= 0 && v < 256) {
            table[v] = 1;
        }
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 0;
}

static int
profile_init(ProfileHook *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"profiler", "table", "untraced", "hooks", "return_ops", "yield_ops", "suspended",
                             "modules", "c_watch", "closing", NULL};
    PyObject *profiler, *table, *untraced, *hooks = Py_None, *return_ops = NULL, *yield_ops = NULL, *suspended = NULL;
    PyObject *modules = NULL, *c_watch = NULL, *closing = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO!O!|OOOOO!O!O!", kwlist, &profiler, &PyDict_Type, &table,
                                     &PyDict_Type, &untraced, &hooks, &return_ops, &yield_ops, &suspended,
                                     &PyDict_Type, &modules, &PyList_Type, &c_watch, &PySet_Type, &closing)) {
        return -1;
    }
    Py_XSETREF(self->closing, Py_XNewRef(closing));
    Py_XSETREF(self->c_watch, Py_XNewRef(c_watch));
    self->c_watch_n = 0;
    self->c_nml = 0;
    Py_XSETREF(self->modules, Py_XNewRef(modules));
    if (suspended == Py_None) {
        suspended = NULL;
    }
    if (suspended != NULL && !PySet_Check(suspended)) {
        PyErr_SetString(PyExc_TypeError, "suspended must be a set");
        return -1;
    }
    if (hooks != Py_None && !PyObject_TypeCheck(hooks, &HooksType)) {
        PyErr_SetString(PyExc_TypeError, "hooks must be a Hooks object or None");
        return -1;
    }
    memset(self->untraced_cache, 0, sizeof(self->untraced_cache));
    if (opcode_table(return_ops, self->return_ops) < 0 || opcode_table(yield_ops, self->yield_ops) < 0) {
        return -1;
    }
    Py_XSETREF(self->suspended, Py_XNewRef(suspended));
    Py_XSETREF(self->profiler, Py_NewRef(profiler));
    Py_XSETREF(self->table, Py_NewRef(table));
    Py_XSETREF(self->untraced, Py_NewRef(untraced));
    Py_XSETREF(self->hooks, hooks == Py_None ? NULL : (Hooks *)Py_NewRef(hooks));
    Py_XSETREF(self->ev_call, PyUnicode_InternFromString("call"));
    Py_XSETREF(self->ev_return, PyUnicode_InternFromString("return"));
    return (self->ev_call && self->ev_return) ? 0 : -1;
}

/* The fast path of one profile event: 1 handled, 0 not (nothing changed), -1 an exception that
   belongs to the program (KeyboardInterrupt...). Other errors are contained. */
static int
profile_fast(ProfileHook *self, PyFrameObject *frame, int what, PyObject *arg, PyCodeObject *code)
{
    Hooks *h = self->hooks;
    PyObject *entry = code_entry(h, (PyObject *)code);
    if (entry == NULL) {
        PyErr_Clear();
        return 0;  /* undecided or untraced code */
    }
    int gen = PyObject_IsTrue(PyTuple_GET_ITEM(entry, SK_ENTRY_GENERATOR));
    if (gen && self->suspended == NULL) {
        return 0;  /* generators without what tells a resume from a call: the Python profiler */
    }
    /* As setprofile.py does: the opcode at f_lasti tells a return from a yield (or an exception
       leaving), and a generator resumed at a yield from a new one. */
    int op = -1, at_yield = 0, at_start = 0;
    PyObject *kind = h->kind_return;
    if (what == PyTrace_RETURN || gen) {
        int lasti = PyFrame_GetLasti(frame);
        PyObject *co = PyCode_GetCode(code);
        if (co == NULL) {
            PyErr_Clear();
            return 0;
        }
        const unsigned char *bytes = (const unsigned char *)PyBytes_AS_STRING(co);
        Py_ssize_t size = PyBytes_GET_SIZE(co);
        at_start = lasti == 0;  /* (3.11: a frame that never ran, an exception thrown in: closing.py) */
        if (lasti >= 0 && lasti < size) {
            op = bytes[lasti];
            at_yield = self->yield_ops[op];
            for (int back = 2; !at_yield && back <= 4; back += 2) {  /* 3.13: f_lasti past YIELD_VALUE */
                at_yield = lasti - back >= 0 && self->yield_ops[bytes[lasti - back]];
            }
        }
        Py_DECREF(co);
    }
    if (gen && what == PyTrace_CALL && (at_start || (op >= 0 && self->yield_ops[op]))) {
        return 0;  /* resumed at the yield itself: an exception thrown in (closing.py), for the Python profiler */
    }
    if (gen && what == PyTrace_RETURN && self->closing != NULL && PySet_GET_SIZE(self->closing) > 0) {
        PyObject *fid = PyLong_FromVoidPtr(frame);
        int found = fid ? PySet_Contains(self->closing, fid) : -1;
        Py_XDECREF(fid);
        if (found != 0) {
            PyErr_Clear();
            return 0;  /* the exit of a close that recorded nothing: for the Python profiler */
        }
    }
    if (what == PyTrace_RETURN) {
        if (op >= 0 && self->return_ops[op]) {
            kind = h->kind_return;
        }
        else if (gen && at_yield) {
            kind = h->kind_yield;
        }
        else {
            return 0;  /* an exception leaving the function */
        }
    }
    PyObject *p = thread_p(h);
    if (p == NULL) {
        if (is_foreign(h)) {
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    if (needs_seed(h, p)) {
        return 0;  /* the Python profiler seeds the counting stack first */
    }
    int r;
    if (what == PyTrace_RETURN) {
        if (kind == h->kind_yield) {
            PyObject *fid = PyLong_FromVoidPtr(frame);
            int err = fid ? PySet_Add(self->suspended, fid) : -1;
            Py_XDECREF(fid);
            if (err < 0) {
                r = -1;
                goto done;
            }
        }
        r = return_core(h, entry, p, frame, arg ? arg : Py_None, kind, PY_VERSION_HEX < 0x030C0000) < 0 ? -1 : 1;
    }
    else if (gen && at_yield) {  /* suspended here before? then this is a resume */
        PyObject *fid = PyLong_FromVoidPtr(frame);
        int found = fid ? PySet_Contains(self->suspended, fid) : -1;
        if (found == 1) {
            found = PySet_Discard(self->suspended, fid) < 0 ? -1 : 1;
        }
        Py_XDECREF(fid);
        if (found < 0) {
            r = -1;
        }
        else if (found) {
            r = resume_core(h, entry, p, frame, 0);
            if (r == 0) {  /* handed back: the Python profiler must see it suspended, as it was */
                PyObject *again = PyLong_FromVoidPtr(frame);
                if (again == NULL || PySet_Add(self->suspended, again) < 0) {
                    r = -1;
                }
                Py_XDECREF(again);
            }
        }
        else {
            r = start_core(h, entry, p, frame, NULL);
        }
    }
    else {
        r = start_core(h, entry, p, frame, NULL);
    }
done:
    if (r < 0) {
        PyObject *none = contain(h, what == PyTrace_CALL ? "call" : "return");
        if (none == NULL) {
            return -1;  /* KeyboardInterrupt...: raised into the program, as by the Python profiler */
        }
        Py_DECREF(none);
        return 1;
    }
    return r;
}

/* A C call while the I/O probes watch some builtins: the probe gets the watched ones (boundaries.py). */
static int
profile_c_call(ProfileHook *self, PyFrameObject *frame, PyObject *arg)
{
    PyObject *w = self->c_watch;
    Py_ssize_t n = PyList_GET_SIZE(w);
    if (n != self->c_watch_n) {  /* the list changed (sqlite3 imported): re-read the PyMethodDefs */
        self->c_nml = 0;
        for (Py_ssize_t i = 1; i < n && self->c_nml < 32; i++) {
            PyObject *o = PyList_GET_ITEM(w, i);
            if (PyCFunction_Check(o)) {
                self->c_mls[self->c_nml++] = ((PyCFunctionObject *)o)->m_ml;
            }
            else if (Py_IS_TYPE(o, &PyMethodDescr_Type)) {
                self->c_mls[self->c_nml++] = ((PyMethodDescrObject *)o)->d_method;
            }
        }
        self->c_watch_n = n;
    }
    if (arg == NULL || !PyCFunction_Check(arg)) {
        return 0;
    }
    PyMethodDef *ml = ((PyCFunctionObject *)arg)->m_ml;
    char c0 = (ml != NULL && ml->ml_name != NULL) ? ml->ml_name[0] : 0;
    if (c0 != 'p' && c0 != 'w' && c0 != 'e') {
        return 0;  /* not print, write(lines) or execute*: most C calls stop here */
    }
    for (int i = 0; i < self->c_nml; i++) {
        if (self->c_mls[i] == ml) {
            PyObject *probe = Py_NewRef(PyList_GET_ITEM(w, 0));
            PyObject *r = PyObject_CallFunctionObjArgs(probe, (PyObject *)frame, arg, NULL);
            Py_DECREF(probe);
            if (r == NULL) {  /* the program's exception (the probe contains its own) */
                if (self->hooks != NULL) {
                    PyObject *none = contain(self->hooks, "c_call");
                    if (none == NULL) {
                        return -1;
                    }
                    Py_DECREF(none);
                    return 0;
                }
                PyEval_SetProfile(NULL, NULL);
                return -1;
            }
            Py_DECREF(r);
            return 0;
        }
    }
    return 0;
}

/* The C profile function. Like CPython's own trampoline, a profiler that raises is removed. */
static int
profile_event(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    ProfileHook *self = (ProfileHook *)obj;
    PyObject *event;
    if (what == PyTrace_CALL) {
        event = self->ev_call;
    }
    else if (what == PyTrace_RETURN) {
        event = self->ev_return;
    }
    else if (what == PyTrace_C_CALL && self->c_watch != NULL && PyList_GET_SIZE(self->c_watch) > 0) {
        return profile_c_call(self, frame, arg);  /* an I/O probe, for a few builtins */
    }
    else {
        return 0;  /* c_call, c_return, c_exception: never traced */
    }
    PyCodeObject *code = PyFrame_GetCode(frame);
    size_t slot = sk_spread((unsigned long long)(uintptr_t)code, UNTRACED_BITS);  /* (as code_hit's sets) */
    if (self->untraced_cache[slot] == (void *)code) {
        Py_DECREF(code);
        return 0;  /* library code: the common case on 3.11, one compare */
    }
    if (self->hooks != NULL) {
        int r = profile_fast(self, frame, what, arg, code);
        if (r == 0 && what == PyTrace_CALL) {
            r = reborn(self->hooks, (PyObject *)code, frame);  /* a project __init__: watched, not traced */
        }
        if (r) {
            Py_DECREF(code);
            if (r < 0) {
                goto fail;
            }
            return 0;
        }
    }
    PyObject *k = PyLong_FromVoidPtr(code);
    Py_DECREF(code);  /* (its address stays the cache key: untraced code is kept alive by the dict) */
    if (k == NULL) {
        goto fail;
    }
    int skip = PyDict_Contains(self->untraced, k);
    if (skip > 0) {
        self->untraced_cache[slot] = (void *)code;
    }
    else if (skip == 0 && what == PyTrace_RETURN) {
        skip = PyDict_Contains(self->table, k);  /* a return of code that is neither: not traced */
        skip = skip < 0 ? -1 : !skip;
        if (skip == 1 && self->modules != NULL && PyDict_GET_SIZE(self->modules) > 0) {
            skip = PyDict_Contains(self->modules, k);  /* a module body being imported ends: the profiler */
            skip = skip < 0 ? -1 : !skip;
        }
    }
    Py_DECREF(k);
    if (skip) {
        if (skip < 0) {
            goto fail;
        }
        return 0;
    }
    if (self->hooks != NULL && self->hooks->n_edges && fold_counts(self->hooks) < 0) {
        goto fail;  /* (the Python profiler reads and writes p[P_COUNTS]: the C table's counts go there first) */
    }
    PyObject *r = PyObject_CallFunctionObjArgs(self->profiler, (PyObject *)frame, event, arg ? arg : Py_None, NULL);
    if (r == NULL) {
        goto fail;
    }
    Py_DECREF(r);
    return 0;
fail:
    if (self->hooks != NULL) {
        /* The program's exception (a signal handler's) is raised in the frame; unlike a Python profile
           function, this one stays installed. Skeleton's own errors become a gap. */
        PyObject *none = contain(self->hooks, what == PyTrace_CALL ? "call" : "return");
        if (none == NULL) {
            return -1;
        }
        Py_DECREF(none);
        return 0;
    }
    PyEval_SetProfile(NULL, NULL);
    return -1;
}

static int
profile_func(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    int old = headroom_open();
    int r = profile_event(obj, frame, what, arg);
    headroom_close(old);
    return r;
}

static PyObject *
profile_call(ProfileHook *self, PyObject *args, PyObject *kwds)
{
    /* Called as a Python-level profiler (sys.setprofile(hook), a thread's first event):
       install the C profile function in this thread, then pass the event on. */
    PyEval_SetProfile(profile_func, (PyObject *)self);
    if (self->hooks != NULL && self->hooks->n_edges && fold_counts(self->hooks) < 0) {
        PyObject *none = contain(self->hooks, "call");  /* Skeleton's error: a gap, the event goes on */
        if (none == NULL) {
            return NULL;
        }
        Py_DECREF(none);
    }
    int old = headroom_open();
    PyObject *r = PyObject_Call(self->profiler, args, kwds);
    headroom_close(old);
    return r;
}

static PyObject *
profile_install(ProfileHook *self, PyObject *unused)
{
    PyEval_SetProfile(profile_func, (PyObject *)self);
    Py_RETURN_NONE;
}

static PyMethodDef profile_methods[] = {
    {"install", (PyCFunction)profile_install, METH_NOARGS, "Make this the profile function of the calling thread."},
    {NULL}
};

static PyTypeObject ProfileHookType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "skeleton_replay.capture._speedups.ProfileHook",
    .tp_basicsize = sizeof(ProfileHook),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A C profile function in front of the setprofile backend's Python profiler.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)profile_init,
    .tp_dealloc = (destructor)profile_dealloc,
    .tp_call = (ternaryfunc)profile_call,
    .tp_methods = profile_methods,
};

/* ----------------------------------------------------------------- Guard */

/* A Python callback behind the headroom (sys.monitoring's PY_UNWIND and PY_THROW callbacks, which have no C
   fast path): at the recursion limit it runs all the same, so a frame's exception exit is recorded. */
typedef struct {
    PyObject_HEAD
    PyObject *fn;
    vectorcallfunc vectorcall;
} Guard;

static PyObject *
guard_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    int old = headroom_open();
    PyObject *r = PyObject_Vectorcall(((Guard *)self)->fn, args, nargsf, kwnames);
    headroom_close(old);
    return r;
}

static int
guard_init(Guard *self, PyObject *args, PyObject *kwds)
{
    PyObject *fn;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) > 0) {
        PyErr_SetString(PyExc_TypeError, "Guard takes no keyword arguments");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "O:Guard", &fn)) {
        return -1;
    }
    if (!PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "Guard takes a callable");
        return -1;
    }
    Py_XSETREF(self->fn, Py_NewRef(fn));
    self->vectorcall = guard_vectorcall;
    return 0;
}

static void
guard_dealloc(Guard *self)
{
    Py_XDECREF(self->fn);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMemberDef guard_members[] = {
    {"fn", T_OBJECT, offsetof(Guard, fn), READONLY, "the callback"},
    {NULL}
};

static PyTypeObject GuardType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "skeleton_replay.capture._speedups.Guard",
    .tp_basicsize = sizeof(Guard),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "Guard(fn): calls fn with frames lent at the recursion limit (see headroom_open).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)guard_init,
    .tp_dealloc = (destructor)guard_dealloc,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Guard, vectorcall),
    .tp_members = guard_members,
};

/* ------------------------------------------------------ checkpoint rows */

/* Counting.checkpoint's node(key) (capture/counting.py) for a key that fits a long long: () for a module body
   (MODULE_KEY, written or not), else (code index, object id) of the key (a written key -1 - key counts as its
   node). New reference. */
static PyObject *
checkpoint_node(long long k, PyObject *empty)
{
    if (k == SK_MODULE_KEY || k == -1 - SK_MODULE_KEY) {
        return Py_NewRef(empty);
    }
    if (k < 0) {
        k = -1 - k;
    }
    PyObject *idx = PyLong_FromLongLong(k % SK_NODE_KEY_SPAN), *obj = PyLong_FromLongLong(k / SK_NODE_KEY_SPAN);
    PyObject *t = idx != NULL && obj != NULL ? PyTuple_Pack(2, idx, obj) : NULL;
    Py_XDECREF(idx);
    Py_XDECREF(obj);
    return t;
}

/* A key of a count dict, as Counting.checkpoint's unpack(edge) gives it: ((idx, obj) or (), same), from a packed
   int edge or a (caller key, callee key) tuple; anything else (a key past a long long) through `unpack`. */
static PyObject *
checkpoint_key(PyObject *edge, PyObject *unpack, PyObject *empty)
{
    long long a, b;
    if (PyLong_CheckExact(edge)) {
        unsigned long long v = PyLong_AsUnsignedLongLong(edge);
        if (v == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            return PyObject_CallOneArg(unpack, edge);
        }
        a = (long long)(v >> SK_EDGE_SHIFT);
        b = (long long)(v & (unsigned long long)SK_EDGE_MASK);
    }
    else if (PyTuple_CheckExact(edge) && PyTuple_GET_SIZE(edge) == 2 && PyLong_CheckExact(PyTuple_GET_ITEM(edge, 0))
             && PyLong_CheckExact(PyTuple_GET_ITEM(edge, 1))) {
        int oa, ob;
        a = PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(edge, 0), &oa);
        b = PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(edge, 1), &ob);
        if (oa || ob) {
            return PyObject_CallOneArg(unpack, edge);
        }
    }
    else {
        return PyObject_CallOneArg(unpack, edge);
    }
    PyObject *na = checkpoint_node(a, empty), *nb = na != NULL ? checkpoint_node(b, empty) : NULL;
    PyObject *k = nb != NULL ? PyTuple_Pack(2, na, nb) : NULL;
    Py_XDECREF(na);
    Py_XDECREF(nb);
    return k;
}

/* For each edge of src, in its order: v = src[edge], less firsts.get(edge, 0) when `firsts` is given (a
   defaultdict's __missing__ not run), added to out[unpack(edge)] when positive (any v without firsts). 0, or -1
   with an error set. */
static int
checkpoint_fold(PyObject *src, PyObject *firsts, PyObject *out, PyObject *unpack, PyObject *empty, PyObject *zero)
{
    PyObject *edge, *v;
    Py_ssize_t pos = 0;
    int err = 0;
    while (!err && PyDict_Next(src, &pos, &edge, &v)) {  /* (dicts only this thread's counting writes) */
        Py_INCREF(edge);
        Py_INCREF(v);
        PyObject *first = firsts != NULL ? PyDict_GetItemWithError(firsts, edge) : NULL;
        PyObject *left = first != NULL ? PyNumber_Subtract(v, first) : PyErr_Occurred() ? NULL : Py_NewRef(v);
        int add = left == NULL ? -1 : firsts == NULL ? 1 : PyObject_RichCompareBool(left, zero, Py_GT);
        if (add < 0) {
            err = -1;
        }
        else if (add) {
            PyObject *k = checkpoint_key(edge, unpack, empty);
            err = k != NULL ? sk_count_add(out, k, left) : -1;  /* out[k] = out.get(k, 0) + left */
            Py_XDECREF(k);
        }
        Py_XDECREF(left);
        Py_DECREF(edge);
        Py_DECREF(v);
    }
    return err;
}

/* checkpoint_rows(c, r, f, counts, raised, unpack): the loops of Counting.checkpoint over one thread's dicts.
   For each edge of c: v = c[edge] - f.get(edge, 0), added to counts[unpack(edge)] when positive; for each edge
   of r: r[edge] added to raised[unpack(edge)]. In the dicts' order, as the Python loops (the AGGREGATE record's
   order is the end record's). */
static PyObject *
sk_checkpoint_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6 || !PyDict_Check(args[0]) || !PyDict_Check(args[1]) || !PyDict_Check(args[2])
            || !PyDict_Check(args[3]) || !PyDict_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError, "checkpoint_rows(c, r, f, counts, raised, unpack): five dicts and a callable");
        return NULL;
    }
    PyObject *empty = PyTuple_New(0), *zero = PyLong_FromLong(0);
    int err = empty == NULL || zero == NULL
              || checkpoint_fold(args[0], args[2], args[3], args[5], empty, zero) < 0
              || checkpoint_fold(args[1], NULL, args[4], args[5], empty, zero) < 0;
    Py_XDECREF(empty);
    Py_XDECREF(zero);
    return err ? NULL : Py_NewRef(Py_None);
}

/* ----------------------------------------------------------------- module */

static PyMethodDef speedups_functions[] = {
    {"pack_records", sk_pack_records, METH_O,
     "pack_records(records) -> bytes: a chunk of records packed for the spill (records.pack_records in C)."},
    {"packed_last", sk_packed_last, METH_O, "packed_last(records) -> bool: was this list packed last?"},
    {"drop_rows", sk_drop_rows, METH_O, "drop_rows(records): the queued rows of these lost records go."},
    {"checkpoint_rows", (PyCFunction)(void (*)(void))sk_checkpoint_rows, METH_FASTCALL,
     "checkpoint_rows(c, r, f, counts, raised, unpack): Counting.checkpoint's loops over one thread's count dicts."},
    {"forget_chunk", sk_forget_chunk, METH_NOARGS,
     "Let go of the chunk packed last and of its list of records (kept to pack that list again the same)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "_speedups", "Optional C fast paths of Skeleton's tracer backends.", -1,
    speedups_functions,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (PyType_Ready(&ProfileHookType) < 0) {
        return NULL;
    }
    if (PyType_Ready(&HooksType) < 0 || PyType_Ready(&GuardType) < 0 || PyType_Ready(&SkRowQueueType) < 0
            || PyType_Ready(&AddrSetType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&speedups_module);
    if (m == NULL) {
        return NULL;
    }
    if (PyModule_AddObject(m, "ProfileHook", Py_NewRef((PyObject *)&ProfileHookType)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddObject(m, "Hooks", Py_NewRef((PyObject *)&HooksType)) < 0 ||
            PyModule_AddObject(m, "Guard", Py_NewRef((PyObject *)&GuardType)) < 0 ||
            PyModule_AddObject(m, "RowQueue", Py_NewRef((PyObject *)&SkRowQueueType)) < 0 ||
            PyModule_AddObject(m, "AddrSet", Py_NewRef((PyObject *)&AddrSetType)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
