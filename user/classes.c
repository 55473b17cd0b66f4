// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "classes.h"

static const struct {
	const char *name;
	const char *desc;
} classes[PM_NCLASS] = {
	[PM_C_TCP]	  = { "tcp", "IP protocol 6" },
	[PM_C_UDP]	  = { "udp", "IP protocol 17, when neither esp_udp, ike nor wireguard; every non-first UDP fragment" },
	[PM_C_ICMP]	  = { "icmp", "IP protocol 1" },
	[PM_C_ICMP6]	  = { "icmp6", "IP protocol 58" },
	[PM_C_SCTP]	  = { "sctp", "IP protocol 132" },
	[PM_C_ESP]	  = { "esp", "IP protocol 50 (IPv6: the next header after the extension chain)" },
	[PM_C_AH]	  = { "ah", "IP protocol 51; in IPv6, an AH header anywhere in the extension chain" },
	[PM_C_ESP_UDP]	  = { "esp_udp", "ESP in UDP (NAT-T, RFC 3948): either port 4500 and the first 4 payload bytes not all zero" },
	[PM_C_IKE]	  = { "ike", "UDP with either port 500; or either port 4500 with the zero non-ESP marker or a payload under 4 bytes (NAT keepalive)" },
	[PM_C_GRE]	  = { "gre", "IP protocol 47" },
	[PM_C_IPIP]	  = { "ipip", "IPv4 in IP (protocol 4)" },
	[PM_C_IPV6_ENCAP] = { "ipv6_encap", "IPv6 in IP (protocol 41)" },
	[PM_C_OTHER]	  = { "other", "any other IP protocol" },
	[PM_C_VXLAN]	  = { "vxlan", "UDP to port 4789 (VXLAN, RFC 7348)" },
	[PM_C_GENEVE]	  = { "geneve", "UDP to port 6081 (Geneve, RFC 8926)" },
	[PM_C_GTP_U]	  = { "gtp_u", "UDP to or from port 2152 whose payload starts with a GTPv1 header (version 1, protocol type 1)" },
	[PM_C_WIREGUARD]  = { "wireguard", "UDP (not port 500 or 4500) whose payload is a WireGuard message: type 1-4, three zero bytes, payload length 148 (type 1), 92 (2), 64 (3), or (4) at least 32 and a multiple of 16" },
};

static const struct {
	const char *name;
	const char *desc;
} reasons[PM_NREASON] = {
	[PM_R_NON_IP]	     = { "non_ip", "not IPv4, IPv6 or a carrier of them (ARP, LLDP, PPPoE discovery, ...)" },
	[PM_R_ETH_TRUNC]     = { "eth_trunc", "shorter than an Ethernet header" },
	[PM_R_VLAN_TRUNC]    = { "vlan_trunc", "a VLAN tag cut short" },
	[PM_R_VLAN_DEPTH]    = { "vlan_depth", "more than two VLAN tags" },
	[PM_R_IP4_TRUNC]     = { "ip4_trunc", "IPv4 header or its options cut short" },
	[PM_R_IP4_BAD_HDR]   = { "ip4_bad_hdr", "IPv4 version is not 4 or IHL is under 5" },
	[PM_R_IP6_TRUNC]     = { "ip6_trunc", "IPv6 header cut short" },
	[PM_R_IP6_BAD_HDR]   = { "ip6_bad_hdr", "IPv6 version is not 6" },
	[PM_R_IP6_EXT_TRUNC] = { "ip6_ext_trunc", "an IPv6 extension header cut short" },
	[PM_R_IP6_EXT_DEPTH] = { "ip6_ext_depth", "more than 8 IPv6 extension headers" },
	[PM_R_L4_TRUNC]	     = { "l4_trunc", "TCP, UDP, ESP or AH header cut short" },
	[PM_R_L4_BAD_HDR]    = { "l4_bad_hdr", "TCP data offset under 5, UDP length under 8, AH length under 12 bytes" },
	[PM_R_MPLS_TRUNC]    = { "mpls_trunc", "an MPLS label stack, or the byte after it, cut short" },
	[PM_R_MPLS_DEPTH]    = { "mpls_depth", "more than 8 MPLS labels" },
	[PM_R_MPLS_OTHER]    = { "mpls_other", "MPLS carrying no IPv4 or IPv6 (a pseudowire control word, ...)" },
	[PM_R_PPPOE_TRUNC]   = { "pppoe_trunc", "a PPPoE session header or its PPP protocol cut short" },
	[PM_R_PPPOE_BAD_HDR] = { "pppoe_bad_hdr", "PPPoE version or type not 1, code not 0, or length under 2" },
	[PM_R_PPPOE_OTHER]   = { "pppoe_other", "PPPoE session carrying a PPP protocol other than IPv4 or IPv6 (LCP, IPCP, ...)" },
	[PM_R_MACSEC]	     = { "macsec", "MACsec (802.1AE, ethertype 0x88e5): encrypted, no IP header to see" },
	[PM_R_TUN_TRUNC]     = { "tun_trunc", "inside a tunnel: the tunnel's header (VXLAN, Geneve and its options, GTP-U and its extensions, GRE and its optional words) cut short" },
	[PM_R_TUN_BAD_HDR]   = { "tun_bad_hdr", "inside a tunnel: VXLAN without the I flag, Geneve version not 0, GRE version not 0 or with routing" },
	[PM_R_TUN_OTHER]     = { "tun_other", "inside a tunnel: neither IP nor Ethernet carried (GTP-U echo and other signalling, PPP or ERSPAN in GRE, ...)" },
};

static const char *hooks[PM_NHOOK] = {
	[PM_HOOK_XDP]	     = "xdp",
	[PM_HOOK_TC_INGRESS] = "tc_ingress",
	[PM_HOOK_TC_EGRESS]  = "tc_egress",
};

const char *class_name(unsigned int c)
{
	return c < PM_NCLASS ? classes[c].name : "?";
}

const char *class_desc(unsigned int c)
{
	return c < PM_NCLASS ? classes[c].desc : "?";
}

int class_from_name(const char *name)
{
	for (int c = 0; c < PM_NCLASS; c++)
		if (strcmp(name, classes[c].name) == 0)
			return c;
	return -1;
}

uint32_t class_tunnel_mask(void)
{
	return 1u << PM_C_ESP | 1u << PM_C_AH | 1u << PM_C_ESP_UDP |
	       1u << PM_C_GRE | 1u << PM_C_IPIP | 1u << PM_C_IPV6_ENCAP |
	       1u << PM_C_WIREGUARD | 1u << PM_C_VXLAN | 1u << PM_C_GENEVE |
	       1u << PM_C_GTP_U;
}

uint32_t class_encrypted_mask(void)
{
	return 1u << PM_C_ESP | 1u << PM_C_AH | 1u << PM_C_ESP_UDP |
	       1u << PM_C_WIREGUARD;
}

uint32_t class_ipsec_mask(void)
{
	return 1u << PM_C_ESP | 1u << PM_C_AH | 1u << PM_C_ESP_UDP |
	       1u << PM_C_IKE;
}

const char *reason_name(unsigned int r)
{
	return r < PM_NREASON ? reasons[r].name : "?";
}

const char *reason_desc(unsigned int r)
{
	return r < PM_NREASON ? reasons[r].desc : "?";
}

char *reasons_unseen_text(const __u64 reason[PM_NREASON], const char *after,
			  char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int r = 0; r < PM_NREASON && n < len; r++)
		if (r != PM_R_NON_IP && !reason_is_malformed(r) &&
		    !reason_is_inner_only(r) && reason[r])
			n += snprintf(buf + n, len - n, " %s %llu%s", reason_name(r),
				      (unsigned long long)reason[r], after);
	return buf;
}

char *stats_unseen_text(const struct pm_stats *s, char *buf, size_t len)
{
	return reasons_unseen_text(s->reason, "", buf, len);
}

char *stats_inner_text(const struct pm_stats *s, char *buf, size_t len)
{
	size_t n = 0;
	int shown = 0;

	buf[0] = 0;
	for (int r = 0; r < PM_NREASON && n < len; r++) {
		if (!s->inner_reason[r])
			continue;
		if (!shown++)
			n += snprintf(buf + n, len - n, " inner %llu (not counted:",
				      (unsigned long long)s->inner_packets);
		n += snprintf(buf + n, len - n, "%s %s %llu", shown > 1 ? "," : "",
			      reason_name(r), (unsigned long long)s->inner_reason[r]);
	}
	if (shown && n < len)
		snprintf(buf + n, len - n, ")");
	else if (!shown && s->inner_packets)
		snprintf(buf, len, " inner %llu", (unsigned long long)s->inner_packets);
	return buf;
}

const char *hook_name(unsigned int h)
{
	return h < PM_NHOOK ? hooks[h] : "?";
}


char *classes_text(uint32_t mask, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int c = 0; c < PM_NCLASS && n < len; c++)
		if (mask & (1u << c))
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "",
				      class_name(c));
	return buf;
}

char *via_text(uint32_t via, char *buf, size_t len)
{
	char names[96];

	if (!via) {
		if (len)
			buf[0] = 0;
		return buf;
	}
	snprintf(buf, len, " (via %s)", classes_text(via, names, sizeof(names)));
	return buf;
}

json_object *classes_json(uint32_t mask)
{
	json_object *a = json_object_new_array();

	for (int c = 0; c < PM_NCLASS; c++)
		if (mask & (1u << c))
			json_object_array_add(a, json_object_new_string(class_name(c)));
	return a;
}
