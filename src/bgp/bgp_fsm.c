/* bgp_fsm.c: being written. */
typedef int bgp_fsm_placeholder;
