/* The record layout (skeleton_replay/capture/layout.py), for the C code: GENERATED, do not edit.
 * Regenerate with `python -m skeleton_replay.capture.layout`; tests/test_layout.py fails when stale. */
#ifndef SKELETON_LAYOUT_H
#define SKELETON_LAYOUT_H

/* record kinds */
#define SK_CALL 0
#define SK_RETURN 1
#define SK_UNWIND 2
#define SK_YIELD 3
#define SK_RESUME 4
#define SK_DEF_CODE (-1)
#define SK_DEF_THREAD (-2)
#define SK_DEF_OBJECT (-3)
#define SK_GAP (-4)
#define SK_AGGREGATE (-5)
#define SK_SCENARIO (-6)
#define SK_SCENARIO_END (-7)
#define SK_BOUNDARY (-8)
#define SK_BOUNDARY_COUNTS (-9)
#define SK_CREATION (-10)

/* positions in an event record */
#define SK_EV_KIND 0
#define SK_EV_CODE 1
#define SK_EV_THREAD 2
#define SK_EV_TIME 3
#define SK_EV_DETAIL 4
#define SK_EV_OBJECT 5
#define SK_EV_FRAME 6
#define SK_EV_CALLER 7
#define SK_EV_SIZE 6
#define SK_EV_SIZE_FRAME 7
#define SK_EV_SIZE_CALLER 8

/* positions in the definition records */
#define SK_DEF_CODE_RECORD 1
#define SK_DEF_THREAD_ID 1
#define SK_DEF_THREAD_NAME 2
#define SK_DEF_OBJECT_ID 1
#define SK_DEF_OBJECT_MODULE 2
#define SK_DEF_OBJECT_QUALNAME 3
#define SK_DEF_OBJECT_IS_CLASS 4
#define SK_GAP_KIND 1
#define SK_GAP_MESSAGE 2
#define SK_GAP_COUNT 3
#define SK_AGGREGATE_COUNTS 1
#define SK_AGGREGATE_RAISED 2
#define SK_AGGREGATE_SCENARIO 3
#define SK_AGGREGATE_RESUMED 4
#define SK_SCENARIO_NAME 1
#define SK_SCENARIO_INFO 2
#define SK_BOUNDARY_N 1
#define SK_BOUNDARY_CODE 2
#define SK_BOUNDARY_OBJECT 3
#define SK_BOUNDARY_KIND 4
#define SK_BOUNDARY_TARGET 5
#define SK_BOUNDARY_OP 6
#define SK_BOUNDARY_DETAIL 7
#define SK_BOUNDARY_COUNTS_MAP 1
#define SK_CREATION_OP 1

/* a traced code object's table entry */
#define SK_ENTRY_INDEX 0
#define SK_ENTRY_RECEIVER 1
#define SK_ENTRY_GENERATOR 2
#define SK_ENTRY_ARG_NAMES 3
#define SK_ENTRY_SIZE 4

/* an object's entry in Recorder.objects */
#define SK_OBJECT_ENTRY_ID 0
#define SK_OBJECT_ENTRY_CLASS 1
#define SK_OBJECT_ENTRY_SIZE 2

/* a thread's state list */
#define SK_P_TID 0
#define SK_P_STACK 1
#define SK_P_COUNTS 2
#define SK_P_RAISED 3
#define SK_P_SEEDED 4
#define SK_P_FIRSTS 5
#define SK_P_SEEN 6
#define SK_P_RESUMED 7
#define SK_P_GEN_EDGES 8
#define SK_P_SIZE 9

/* node keys and packed edges */
#define SK_NODE_KEY_SPAN 1048576
#define SK_MODULE_KEY 1048575
#define SK_EDGE_SHIFT 32
#define SK_EDGE_MASK 4294967295LL

/* the packed spill chunk */
#define SK_CHUNK_HEAD 8
#define SK_ROW_HEAD 26
#define SK_ROW_OTHER 255
#define SK_ROW_DETAIL 1
#define SK_ROW_FRAME 2
#define SK_ROW_FRAME_NONE 4
#define SK_ROW_CALLER 8

/* the sampling rule: does a call (or its return) get a summary? (layout.sampled) */
#define SK_SAMPLED(calls, n, first_calls, per_code, sample_every) \
    (((calls) <= (first_calls)) || ((n) <= (per_code)) || (((n) % (sample_every)) == 0))

#endif /* SKELETON_LAYOUT_H */
