/* bgp_attr.c: being written. */
typedef int bgp_attr_placeholder;
