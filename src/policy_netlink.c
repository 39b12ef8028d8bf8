// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Network state for the safety policy, from rtnetlink: links (flags, master, lower link),
 * addresses (IPv4 and IPv6) and routes of every table (IPv4 and IPv6, multipath nexthops).
 * pb_policy_ctx_parse_rtnl() is pure; pb_policy_collect_rtnl() does the socket I/O.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "probebench/policy.h"
#include "probebench/util.h"

static int parse_link(struct pb_policy_ctx *ctx, const struct nlmsghdr *h)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	if (len < 0)
		return -EBADMSG;
	char name[IFNAMSIZ] = "";
	int master = 0, link = 0;
	bool link_other_netns = false;
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFLA_IFNAME:
			snprintf(name, sizeof(name), "%.*s", (int)RTA_PAYLOAD(a),
				 (const char *)RTA_DATA(a));
			break;
		case IFLA_MASTER:
			if (RTA_PAYLOAD(a) >= 4)
				master = *(const int *)RTA_DATA(a);
			break;
		case IFLA_LINK:
			if (RTA_PAYLOAD(a) >= 4)
				link = *(const int *)RTA_DATA(a);
			break;
		case IFLA_LINK_NETNSID:
			link_other_netns = true;
			break;
		}
	}
	/* A lower link in another namespace has an ifindex of that namespace: not ours. */
	if (link_other_netns)
		link = 0;
	return pb_policy_ctx_add_link(ctx, ifi->ifi_index, name, ifi->ifi_flags, master, link);
}

static int parse_addr(struct pb_policy_ctx *ctx, const struct nlmsghdr *h)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifa));
	if (len < 0)
		return -EBADMSG;
	size_t alen = ifa->ifa_family == AF_INET ? 4 : ifa->ifa_family == AF_INET6 ? 16 : 0;
	if (!alen)
		return 0;
	const void *local = NULL, *address = NULL;
	for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (RTA_PAYLOAD(a) < alen)
			continue;
		if (a->rta_type == IFA_LOCAL)
			local = RTA_DATA(a);
		else if (a->rta_type == IFA_ADDRESS)
			address = RTA_DATA(a);
	}
	/* On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours. */
	const void *addr = local ? local : address;
	if (!addr)
		return 0;
	return pb_policy_ctx_add_addr(ctx, (int)ifa->ifa_index, ifa->ifa_family, addr,
				      ifa->ifa_prefixlen, ifa->ifa_scope);
}

static int parse_route(struct pb_policy_ctx *ctx, const struct nlmsghdr *h)
{
	const struct rtmsg *rtm = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*rtm));
	if (len < 0)
		return -EBADMSG;
	size_t alen = rtm->rtm_family == AF_INET ? 4 : rtm->rtm_family == AF_INET6 ? 16 : 0;
	if (!alen)
		return 0;
	struct pb_policy_route r = {
	    .family = rtm->rtm_family,
	    .table = rtm->rtm_table,
	    .type = rtm->rtm_type,
	    .protocol = rtm->rtm_protocol,
	    .dst_len = rtm->rtm_dst_len,
	};
	const struct rtattr *multipath = NULL;
	bool nh_id = false;
	for (const struct rtattr *a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case RTA_TABLE:
			if (RTA_PAYLOAD(a) >= 4)
				r.table = *(const uint32_t *)RTA_DATA(a);
			break;
		case RTA_OIF:
			if (RTA_PAYLOAD(a) >= 4)
				r.oif = *(const int *)RTA_DATA(a);
			break;
		case RTA_DST:
			if (RTA_PAYLOAD(a) >= alen)
				memcpy(r.dst, RTA_DATA(a), alen);
			break;
		case RTA_GATEWAY:
			if (RTA_PAYLOAD(a) >= alen) {
				memcpy(r.gateway, RTA_DATA(a), alen);
				r.has_gateway = true;
			}
			break;
		case RTA_MULTIPATH:
			multipath = a;
			break;
		case RTA_NH_ID:
			nh_id = true;
			break;
		}
	}
	/* With net.ipv4.nexthop_compat_mode=0 a route using a nexthop object carries only its id.
	 */
	if (nh_id && !multipath && !r.oif)
		r.oif = -1;
	if (!multipath)
		return pb_policy_ctx_add_route(ctx, &r);
	/* ECMP: one entry per nexthop, each with its own interface and gateway. */
	int mlen = (int)RTA_PAYLOAD(multipath);
	const struct rtnexthop *nh = RTA_DATA(multipath);
	while (mlen >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= mlen) {
		struct pb_policy_route one = r;
		one.oif = nh->rtnh_ifindex;
		one.has_gateway = false;
		int alen2 = nh->rtnh_len - (int)RTNH_LENGTH(0);
		for (const struct rtattr *a = RTNH_DATA(nh); RTA_OK(a, alen2);
		     a = RTA_NEXT(a, alen2))
			if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) >= alen) {
				memcpy(one.gateway, RTA_DATA(a), alen);
				one.has_gateway = true;
			}
		int r2 = pb_policy_ctx_add_route(ctx, &one);
		if (r2 < 0)
			return r2;
		mlen -= RTNH_ALIGN(nh->rtnh_len);
		nh = RTNH_NEXT(nh);
	}
	return 0;
}

/* NLMSG_OK() compares the header's unsigned length with an int, which clang flags. */
static bool nlmsg_ok(const struct nlmsghdr *h, int rest)
{
	return rest >= (int)sizeof(*h) && h->nlmsg_len >= sizeof(*h) &&
	       h->nlmsg_len <= (unsigned)rest;
}

int pb_policy_ctx_parse_rtnl(struct pb_policy_ctx *ctx, const void *buf, size_t len)
{
	int rest = (int)len;
	for (const struct nlmsghdr *h = buf; nlmsg_ok(h, rest); h = NLMSG_NEXT(h, rest)) {
		int r = 0;
		/* A dump interrupted by a change is marked; the snapshot would be inconsistent. */
		if (h->nlmsg_flags & NLM_F_DUMP_INTR)
			return -EAGAIN;
		switch (h->nlmsg_type) {
		case NLMSG_DONE:
			return 1;
		case NLMSG_ERROR: {
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				return -EBADMSG;
			const struct nlmsgerr *e = NLMSG_DATA(h);
			return e->error ? e->error : -EBADMSG;
		}
		case RTM_NEWLINK:
			r = parse_link(ctx, h);
			break;
		case RTM_NEWADDR:
			r = parse_addr(ctx, h);
			break;
		case RTM_NEWROUTE:
			r = parse_route(ctx, h);
			break;
		}
		if (r < 0)
			return r;
	}
	if (rest != 0)
		return -EBADMSG;
	return 0;
}

static int dump(struct pb_policy_ctx *ctx, int fd, uint16_t type, int family, uint32_t seq)
{
	struct {
		struct nlmsghdr h;
		union {
			struct ifinfomsg ifi;
			struct ifaddrmsg ifa;
			struct rtmsg rtm;
		};
	} req = {0};
	size_t body = type == RTM_GETLINK   ? sizeof(req.ifi)
		      : type == RTM_GETADDR ? sizeof(req.ifa)
					    : sizeof(req.rtm);
	req.h.nlmsg_len = NLMSG_LENGTH(body);
	req.h.nlmsg_type = type;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = seq;
	/* The family is the first byte of each of these headers. RTM_GETROUTE with table 0 and no
	 * RTA_TABLE dumps every table. */
	req.rtm.rtm_family = (unsigned char)family;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	ssize_t n;
	do
		n = sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&kernel,
			   sizeof(kernel));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	_Alignas(struct nlmsghdr) char buf[32768];
	for (;;) {
		struct iovec iov = {buf, sizeof(buf)};
		struct sockaddr_nl from;
		struct msghdr msg = {.msg_name = &from,
				     .msg_namelen = sizeof(from),
				     .msg_iov = &iov,
				     .msg_iovlen = 1};
		n = recvmsg(fd, &msg, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (msg.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		if (from.nl_pid != 0)
			continue; /* not from the kernel */
		int r = pb_policy_ctx_parse_rtnl(ctx, buf, (size_t)n);
		if (r < 0)
			return r;
		if (r == 1)
			return 0;
		if (n == 0)
			return -EBADMSG;
	}
}

int pb_policy_collect_rtnl(struct pb_policy_ctx *ctx)
{
	_cleanup_close_ int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl local = {.nl_family = AF_NETLINK};
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0)
		return -errno;
	const struct {
		uint16_t type;
		int family;
	} steps[] = {
	    {RTM_GETLINK, AF_UNSPEC}, {RTM_GETADDR, AF_INET},	{RTM_GETADDR, AF_INET6},
	    {RTM_GETROUTE, AF_INET},  {RTM_GETROUTE, AF_INET6},
	};
	for (size_t i = 0; i < PB_ARRAY_SIZE(steps); i++) {
		int r = dump(ctx, fd, steps[i].type, steps[i].family, (uint32_t)i + 1);
		/* IPv6 may be disabled entirely: then there is nothing of it to see. */
		if (r == -EAFNOSUPPORT && steps[i].family == AF_INET6)
			continue;
		if (r < 0)
			return r;
	}
	return 0;
}
