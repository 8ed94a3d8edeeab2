/* bgp_msg.c: being written. */
typedef int bgp_msg_placeholder;
