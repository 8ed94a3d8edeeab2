/* bgp_rib.c: being written. */
typedef int bgp_rib_placeholder;
