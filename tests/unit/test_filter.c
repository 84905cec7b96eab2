// SPDX-License-Identifier: GPL-2.0
/* Filters: values parsed, records matched, the kernel's map entries, the --events stream. */
#include "unit.h"

#include <errno.h>
#include <sys/socket.h>
#include "filter.h"

static const __u8 v4_10_1_2_3[16] = { 10, 1, 2, 3 };
static const __u8 v4_192_168_0_9[16] = { 192, 168, 0, 9 };
static const __u8 db8_1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

/* curl (pid 1234) 10.1.2.3:43210 -> 192.168.0.9:443, netns 4026531840, finished. */
static struct tw_conn conn(void)
{
	struct tw_conn c = {
		.type = TW_REC_CONN,
		.flags = TW_CONN_OWNER_KNOWN,
		.cookie = 4242,
		.netns = 4026531840u,
		.cgroup_id = 7,
		.owner = { .pid = 1235, .tgid = 1234, .comm = "curl" },
		.ep = { .lport = 43210, .rport = 443, .family = AF_INET },
	};

	memcpy(c.ep.laddr, v4_10_1_2_3, 16);
	memcpy(c.ep.raddr, v4_192_168_0_9, 16);
	return c;
}

/* A transition of socket `cookie`, from the conn() above. */
static struct tw_state_event event(__u64 cookie, __u8 old_state, __u8 new_state, bool owner_known)
{
	struct tw_conn c = conn();
	struct tw_state_event e = {
		.type = TW_REC_STATE,
		.old_state = old_state,
		.new_state = new_state,
		.flags = owner_known ? TW_EV_OWNER_KNOWN : 0,
		.netns = c.netns,
		.cookie = cookie,
		.cgroup_id = c.cgroup_id,
		.owner = c.owner,
		.ep = c.ep,
	};

	return e;
}

#define CGROUP "/system.slice/curl.service"

static bool match(const struct filter *f, const struct tw_conn *c)
{
	return filter_match_conn(f, c, CGROUP);
}

/* ---- parsing ---- */

TEST(test_filter_pids_parse_and_count_once)
{
	struct filter f = {};

	CHECK_INT(filter_add_pid(&f, "1"), 0);
	CHECK_INT(filter_add_pid(&f, "4194304"), 0);
	CHECK_INT(filter_add_pid(&f, "1"), 0);
	CHECK_INT(f.npids, 2);
	CHECK_INT(f.pids[0], 1);
	CHECK_INT(f.pids[1], 4194304);
}

TEST(test_filter_pids_reject_what_is_no_pid)
{
	struct filter f = {};

	CHECK_INT(filter_add_pid(&f, "0"), -EINVAL);
	CHECK_INT(filter_add_pid(&f, "4194305"), -EINVAL);
	CHECK_INT(filter_add_pid(&f, "-1"), -EINVAL);
	CHECK_INT(filter_add_pid(&f, "12a"), -EINVAL);
	CHECK_INT(filter_add_pid(&f, ""), -EINVAL);
	CHECK_INT(filter_add_pid(&f, "1,2"), -EINVAL);
	CHECK_INT(f.npids, 0);
}

TEST(test_filter_values_past_the_limit_are_refused)
{
	struct filter f = {};
	char pid[16];
	int i;

	for (i = 1; i <= FILTER_VALUES_MAX; i++) {
		snprintf(pid, sizeof(pid), "%d", i);
		CHECK_INT(filter_add_pid(&f, pid), 0);
	}
	CHECK_INT(filter_add_pid(&f, "9999"), -ENOSPC);
	CHECK_INT(filter_add_pid(&f, "1"), 0); /* a value it has is no new one */
	CHECK_INT(f.npids, FILTER_VALUES_MAX);
}

TEST(test_filter_comm_is_exact_and_at_most_15_bytes)
{
	struct filter f = {};

	CHECK_INT(filter_add_comm(&f, "nginx"), 0);
	CHECK_INT(filter_add_comm(&f, "123456789012345"), 0);
	CHECK_INT(filter_add_comm(&f, "1234567890123456"), -EINVAL);
	CHECK_INT(filter_add_comm(&f, ""), -EINVAL);
	CHECK_INT(f.ncomms, 2);
	CHECK(!memcmp(f.comms[0], "nginx\0\0\0\0\0\0\0\0\0\0\0", TW_COMM_LEN));
}

TEST(test_filter_ports_take_lists_per_end)
{
	struct filter f = {};

	CHECK_INT(filter_add_ports(&f, TW_PORT_EITHER, "80,443"), 0);
	CHECK_INT(filter_add_ports(&f, TW_PORT_EITHER, "443"), 0);
	CHECK_INT(filter_add_ports(&f, TW_PORT_LOCAL, "1"), 0);
	CHECK_INT(filter_add_ports(&f, TW_PORT_REMOTE, "65535"), 0);
	CHECK_INT(f.nports, 2);
	CHECK_INT(f.ports[1], 443);
	CHECK_INT(f.nlports, 1);
	CHECK_INT(f.lports[0], 1);
	CHECK_INT(f.nrports, 1);
	CHECK_INT(f.rports[0], 65535);
}

TEST(test_filter_ports_reject_bad_lists)
{
	struct filter f = {};

	CHECK_INT(filter_add_ports(&f, TW_PORT_EITHER, "0"), -EINVAL);
	CHECK_INT(filter_add_ports(&f, TW_PORT_EITHER, "65536"), -EINVAL);
	CHECK_INT(filter_add_ports(&f, TW_PORT_EITHER, "80,"), -EINVAL);
	CHECK_INT(filter_add_ports(&f, TW_PORT_EITHER, ",80"), -EINVAL);
	CHECK_INT(filter_add_ports(&f, TW_PORT_EITHER, "80,,443"), -EINVAL);
	CHECK_INT(filter_add_ports(&f, TW_PORT_EITHER, "http"), -EINVAL);
	CHECK_INT(filter_add_ports(&f, TW_PORT_EITHER, ""), -EINVAL);
}

TEST(test_filter_cidr_clears_host_bits)
{
	struct filter f = {};

	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "10.1.2.3/12"), 0);
	CHECK_INT(f.laddrs[0].family, AF_INET);
	CHECK_INT(f.laddrs[0].prefix, 12);
	CHECK(!memcmp(f.laddrs[0].addr, (__u8[16]){ 10, 0 }, 16));
	CHECK_INT(filter_add_cidr(&f, TW_ADDR_REMOTE, "2001:db8::1/31"), 0);
	CHECK_INT(f.raddrs[0].family, AF_INET6);
	CHECK_INT(f.raddrs[0].prefix, 31);
	CHECK(!memcmp(f.raddrs[0].addr, (__u8[16]){ 0x20, 0x01, 0x0d, 0xb8 }, 16));
}

TEST(test_filter_cidr_alone_is_one_address)
{
	struct filter f = {};

	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "10.1.2.3"), 0);
	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "::1"), 0);
	CHECK_INT(f.laddrs[0].prefix, 32);
	CHECK_INT(f.laddrs[1].prefix, 128);
	CHECK_INT(f.laddrs[1].addr[15], 1);
}

TEST(test_filter_cidr_v4_mapped_is_ipv4)
{
	struct filter f = {};

	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "::ffff:10.0.0.0/104"), 0);
	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "::ffff:10.1.2.3"), 0);
	CHECK_INT(f.laddrs[0].family, AF_INET);
	CHECK_INT(f.laddrs[0].prefix, 8);
	CHECK(!memcmp(f.laddrs[0].addr, (__u8[16]){ 10 }, 16));
	CHECK_INT(f.laddrs[1].family, AF_INET);
	CHECK_INT(f.laddrs[1].prefix, 32);
	CHECK(!memcmp(f.laddrs[1].addr, v4_10_1_2_3, 16));
}

TEST(test_filter_cidr_v4_mapped_shorter_than_96_is_refused)
{
	struct filter f = {};

	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "::ffff:0.0.0.0/95"), -ERANGE);
	CHECK_INT(filter_add_cidr(&f, TW_ADDR_REMOTE, "::ffff:10.0.0.0/8"), -ERANGE);
	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "::ffff:0:0/80"), -ERANGE);
	CHECK_INT(f.nladdrs + f.nraddrs, 0);
	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "::ffff:0.0.0.0/96"), 0);
	CHECK_INT(f.laddrs[0].family, AF_INET);
	CHECK_INT(f.laddrs[0].prefix, 0);
}

/* Only an address written as mapped is IPv4: ::/0 holds the mapped range, yet is IPv6. */
TEST(test_filter_cidr_ipv6_prefix_over_the_mapped_range_stays_ipv6)
{
	struct filter f = {};
	struct tw_conn c = conn();

	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "::/0"), 0);
	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "::/80"), 0);
	CHECK_INT(f.laddrs[0].family, AF_INET6);
	CHECK_INT(f.laddrs[1].family, AF_INET6);
	CHECK_INT(f.laddrs[1].prefix, 80);
	CHECK(!match(&f, &c)); /* 10.1.2.3, maybe on a dual-stack socket */
}

TEST(test_filter_cidr_rejects_what_is_no_prefix)
{
	struct filter f = {};

	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "10.0.0.0/33"), -EINVAL);
	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "::/129"), -EINVAL);
	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "10.0.0.0/"), -EINVAL);
	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "10.0.0.0/-1"), -EINVAL);
	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "/8"), -EINVAL);
	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "10.0.0/8"), -EINVAL);
	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, "example.com"), -EINVAL);
	CHECK_INT(filter_add_cidr(&f, TW_ADDR_LOCAL, ""), -EINVAL);
	CHECK_INT(f.nladdrs, 0);
}

TEST(test_filter_netns_is_an_inode)
{
	struct filter f = {};

	CHECK_INT(filter_add_netns(&f, "4026531840"), 0);
	CHECK_INT(filter_add_netns(&f, "4294967295"), 0);
	CHECK_INT(filter_add_netns(&f, "4294967296"), -EINVAL);
	CHECK_INT(filter_add_netns(&f, "0"), -EINVAL);
	CHECK_INT(filter_add_netns(&f, "net:[4026531840]"), -EINVAL);
	CHECK_INT(f.nnetns, 2);
}

TEST(test_filter_cgroup_must_be_absolute)
{
	struct filter f = {};
	char longer[FILTER_CGROUP_PATH_MAX + 1];

	memset(longer, 'a', sizeof(longer) - 1);
	longer[0] = '/';
	longer[sizeof(longer) - 1] = '\0';
	CHECK_INT(filter_add_cgroup(&f, "/system.slice"), 0);
	CHECK_INT(filter_add_cgroup(&f, "/system.slice"), 0);
	CHECK_INT(filter_add_cgroup(&f, "system.slice"), -EINVAL);
	CHECK_INT(filter_add_cgroup(&f, ""), -EINVAL);
	CHECK_INT(filter_add_cgroup(&f, longer), -EINVAL);
	CHECK_INT(f.ncgroups, 1);
	CHECK_STR(f.cgroups[0].path, "/system.slice");
}

TEST(test_filter_cgroups_past_the_limit_are_refused)
{
	struct filter f = {};
	char path[16];
	int i;

	for (i = 0; i < TW_CGROUPS_MAX; i++) {
		snprintf(path, sizeof(path), "/%d", i);
		CHECK_INT(filter_add_cgroup(&f, path), 0);
	}
	CHECK_INT(filter_add_cgroup(&f, "/more"), -ENOSPC);
}

TEST(test_filter_flags_name_the_filters_on)
{
	struct filter f = {};

	CHECK_INT(filter_flags(&f), 0);
	filter_add_pid(&f, "1");
	filter_add_ports(&f, TW_PORT_REMOTE, "80");
	filter_add_cidr(&f, TW_ADDR_LOCAL, "10.0.0.0/8");
	f.ipv6 = true;
	CHECK_INT(filter_flags(&f), TW_F_PID | TW_F_RPORT | TW_F_LADDR | TW_F_IPV6);
}

/* ---- matching ---- */

TEST(test_filter_none_matches_everything)
{
	struct filter f = {};
	struct tw_conn c = conn();

	c.flags = 0; /* not even an owner needed */
	CHECK(filter_match_conn(&f, &c, NULL));
}

TEST(test_filter_pid_matches_the_owner_process)
{
	struct filter f = {};
	struct tw_conn c = conn();

	filter_add_pid(&f, "99");
	CHECK(!match(&f, &c));
	filter_add_pid(&f, "1234");
	CHECK(match(&f, &c));
	c.owner.tgid = 1235; /* a thread id is not a process id */
	CHECK(!match(&f, &c));
}

TEST(test_filter_owner_not_known_matches_no_owner_filter)
{
	struct filter f = {};
	struct tw_conn c = conn();

	filter_add_comm(&f, "curl");
	CHECK(match(&f, &c));
	c.flags &= ~TW_CONN_OWNER_KNOWN;
	CHECK(!match(&f, &c));
	CHECK_INT(filter_owner(&f, &c.owner, false, false), FILTER_PENDING);
	CHECK_INT(filter_owner(&f, &c.owner, false, true), FILTER_DROP);
}

TEST(test_filter_comm_is_exact)
{
	struct filter f = {};
	struct tw_conn c = conn();

	filter_add_comm(&f, "cur");
	CHECK(!match(&f, &c));
	filter_add_comm(&f, "curl2");
	CHECK(!match(&f, &c));
	filter_add_comm(&f, "curl");
	CHECK(match(&f, &c));
}

TEST(test_filter_port_either_end)
{
	struct filter f = {};
	struct tw_conn c = conn();

	filter_add_ports(&f, TW_PORT_EITHER, "80,443");
	CHECK(match(&f, &c));
	c.ep.rport = 80;
	CHECK(match(&f, &c));
	c.ep.rport = 8080;
	CHECK(!match(&f, &c));
	c.ep.lport = 443;
	CHECK(match(&f, &c));
}

TEST(test_filter_lport_and_rport_are_one_end_each)
{
	struct filter f = {};
	struct tw_conn c = conn();

	filter_add_ports(&f, TW_PORT_LOCAL, "443");
	CHECK(!match(&f, &c)); /* 443 is the remote end */
	memset(&f, 0, sizeof(f));
	filter_add_ports(&f, TW_PORT_REMOTE, "443");
	CHECK(match(&f, &c));
	filter_add_ports(&f, TW_PORT_LOCAL, "43210");
	CHECK(match(&f, &c));
	filter_add_ports(&f, TW_PORT_EITHER, "22");
	CHECK(!match(&f, &c)); /* AND across filters */
}

TEST(test_filter_port_not_known_is_pending_until_final)
{
	struct filter f = {};
	struct tw_conn c = conn();

	filter_add_ports(&f, TW_PORT_LOCAL, "43210");
	c.ep.lport = 0; /* connect() has not picked it yet */
	CHECK_INT(filter_tuple(&f, &c.ep, c.netns, NULL, false), FILTER_PENDING);
	CHECK_INT(filter_tuple(&f, &c.ep, c.netns, NULL, true), FILTER_DROP);
	memset(&f, 0, sizeof(f));
	filter_add_ports(&f, TW_PORT_EITHER, "443");
	/* the remote end already matches */
	CHECK_INT(filter_tuple(&f, &c.ep, c.netns, NULL, false), FILTER_PASS);
	c.ep.rport = 80;
	CHECK_INT(filter_tuple(&f, &c.ep, c.netns, NULL, false), FILTER_PENDING);
	c.ep.lport = 5000;
	CHECK_INT(filter_tuple(&f, &c.ep, c.netns, NULL, false), FILTER_DROP);
}

TEST(test_filter_addresses_by_prefix_and_end)
{
	struct filter f = {};
	struct tw_conn c = conn();

	filter_add_cidr(&f, TW_ADDR_LOCAL, "10.0.0.0/8");
	CHECK(match(&f, &c));
	filter_add_cidr(&f, TW_ADDR_REMOTE, "10.0.0.0/8");
	CHECK(!match(&f, &c)); /* the remote end is 192.168.0.9 */
	filter_add_cidr(&f, TW_ADDR_REMOTE, "192.168.0.8/31");
	CHECK(match(&f, &c)); /* OR within --raddr */
	filter_add_cidr(&f, TW_ADDR_LOCAL, "2001:db8::/32");
	CHECK(match(&f, &c));
}

TEST(test_filter_address_of_the_other_family_does_not_match)
{
	struct filter f = {};
	struct tw_conn c = conn();

	filter_add_cidr(&f, TW_ADDR_LOCAL, "::/0");
	CHECK(!match(&f, &c));
	c.ep.family = AF_INET6;
	memcpy(c.ep.laddr, db8_1, 16);
	CHECK(match(&f, &c));
	filter_add_cidr(&f, TW_ADDR_REMOTE, "0.0.0.0/0");
	CHECK(!match(&f, &c));
}

TEST(test_filter_address_not_known_is_pending_until_final)
{
	struct filter f = {};
	struct tw_conn c = conn();

	filter_add_cidr(&f, TW_ADDR_REMOTE, "0.0.0.0/0");
	memset(c.ep.raddr, 0, 16); /* a listener */
	CHECK_INT(filter_tuple(&f, &c.ep, c.netns, NULL, false), FILTER_PENDING);
	/* 0.0.0.0 is in 0.0.0.0/0 once it is final */
	CHECK_INT(filter_tuple(&f, &c.ep, c.netns, NULL, true), FILTER_PASS);
}

TEST(test_filter_family)
{
	struct filter f = {};
	struct tw_conn c = conn();

	f.ipv6 = true;
	CHECK(!match(&f, &c));
	f.ipv6 = false;
	f.ipv4 = true;
	CHECK(match(&f, &c));
	c.ep.family = AF_INET6;
	CHECK(!match(&f, &c));
}

TEST(test_filter_netns)
{
	struct filter f = {};
	struct tw_conn c = conn();

	filter_add_netns(&f, "4026532000");
	CHECK(!match(&f, &c));
	filter_add_netns(&f, "4026531840");
	CHECK(match(&f, &c));
}

TEST(test_filter_cgroup_subtree)
{
	struct filter f = {};
	struct tw_conn c = conn();

	filter_add_cgroup(&f, "/system.slice/curl");
	CHECK(!filter_match_conn(&f, &c, "/system.slice/curl.service"));
	CHECK(!filter_match_conn(&f, &c, "/system.slice"));
	CHECK(filter_match_conn(&f, &c, "/system.slice/curl"));
	CHECK(filter_match_conn(&f, &c, "/system.slice/curl/worker"));
	CHECK(!filter_match_conn(&f, &c, NULL));
}

TEST(test_filter_cgroup_gone_passes_what_the_kernel_passed)
{
	struct filter f = {};
	struct tw_conn c = conn();

	filter_add_cgroup(&f, "/system.slice");
	f.kernel_applied = true;
	CHECK(filter_match_conn(&f, &c, NULL));
	CHECK(!filter_match_conn(&f, &c, "/user.slice"));
}

TEST(test_filter_cgroup_under)
{
	CHECK(filter_cgroup_under("/a/b", "/a"));
	CHECK(filter_cgroup_under("/a", "/a"));
	CHECK(filter_cgroup_under("/a", "/"));
	CHECK(filter_cgroup_under("/", "/"));
	CHECK(!filter_cgroup_under("/ab", "/a"));
	CHECK(!filter_cgroup_under("/", "/a"));
}

/* ---- what the kernel side is given ---- */

TEST(test_filter_lpm_entries_carry_the_ends_of_shorter_prefixes)
{
	struct filter_lpm_entry e[2 * FILTER_VALUES_MAX];
	struct filter f = {};

	filter_add_cidr(&f, TW_ADDR_LOCAL, "10.0.0.0/8");
	filter_add_cidr(&f, TW_ADDR_REMOTE, "10.1.0.0/16");
	filter_add_cidr(&f, TW_ADDR_REMOTE, "10.0.0.0/8");
	filter_add_cidr(&f, TW_ADDR_REMOTE, "192.168.0.0/16");
	filter_add_cidr(&f, TW_ADDR_LOCAL, "2001:db8::/32");
	CHECK_INT(filter_lpm_entries(&f, AF_INET, e), 3);
	CHECK_INT(e[0].prefix, 8);
	CHECK_INT(e[0].ends, TW_ADDR_LOCAL | TW_ADDR_REMOTE);
	CHECK_INT(e[1].prefix, 16);
	CHECK_INT(e[1].addr[1], 1);
	CHECK_INT(e[1].ends, TW_ADDR_LOCAL | TW_ADDR_REMOTE);
	CHECK_INT(e[2].addr[0], 192);
	CHECK_INT(e[2].ends, TW_ADDR_REMOTE);
	CHECK_INT(filter_lpm_entries(&f, AF_INET6, e), 1);
	CHECK_INT(e[0].prefix, 32);
	CHECK_INT(e[0].ends, TW_ADDR_LOCAL);
}

TEST(test_filter_port_entries_merge_the_ends)
{
	struct filter_port_entry e[3 * FILTER_VALUES_MAX];
	struct filter f = {};

	filter_add_ports(&f, TW_PORT_EITHER, "80");
	filter_add_ports(&f, TW_PORT_LOCAL, "80,22");
	filter_add_ports(&f, TW_PORT_REMOTE, "22");
	CHECK_INT(filter_port_entries(&f, e), 2);
	CHECK_INT(e[0].port, 80);
	CHECK_INT(e[0].ends, TW_PORT_EITHER | TW_PORT_LOCAL);
	CHECK_INT(e[1].port, 22);
	CHECK_INT(e[1].ends, TW_PORT_LOCAL | TW_PORT_REMOTE);
}

/* ---- the transition stream ---- */

TEST(test_filter_stream_without_filters_hands_on_each)
{
	struct tw_state_event out[TW_HELD_MAX + 1], e = event(1, TW_LISTEN, TW_SYN_RECV, false);
	struct filter f = {};
	struct filter_stream s;

	filter_stream_init(&s, &f);
	CHECK_INT(filter_stream_push(&s, &e, NULL, out), 1);
	CHECK_INT(out[0].cookie, 1);
	filter_stream_free(&s);
}

TEST(test_filter_stream_holds_transitions_until_the_owner_is_known)
{
	struct tw_state_event out[TW_HELD_MAX + 1];
	struct tw_state_event e1 = event(7, TW_LISTEN, TW_SYN_RECV, false);
	struct tw_state_event e2 = event(7, TW_SYN_RECV, TW_ESTABLISHED, false);
	struct tw_state_event other = event(8, TW_ESTABLISHED, TW_FIN_WAIT1, true);
	struct tw_state_event e3 = event(7, TW_ESTABLISHED, TW_CLOSE_WAIT, true);
	struct filter f = {};
	struct filter_stream s;

	filter_add_pid(&f, "1234");
	filter_stream_init(&s, &f);
	CHECK_INT(filter_stream_push(&s, &e1, NULL, out), 0);
	CHECK_INT(filter_stream_push(&s, &e2, NULL, out), 0);
	CHECK_INT(filter_stream_push(&s, &other, NULL, out), 1);
	CHECK_INT(out[0].cookie, 8);
	CHECK_INT(filter_stream_push(&s, &e3, NULL, out), 3);
	CHECK_INT(out[0].new_state, TW_SYN_RECV);
	CHECK_INT(out[1].new_state, TW_ESTABLISHED);
	CHECK_INT(out[2].new_state, TW_CLOSE_WAIT);
	/* shown as they were: no owner yet */
	CHECK_INT(out[0].flags & TW_EV_OWNER_KNOWN, 0);
	CHECK_INT(s.filtered, 0);
	filter_stream_free(&s);
}

TEST(test_filter_stream_drops_held_with_the_transition_that_decides)
{
	struct tw_state_event out[TW_HELD_MAX + 1];
	struct tw_state_event e1 = event(7, TW_LISTEN, TW_SYN_RECV, false);
	struct tw_state_event e2 = event(7, TW_SYN_RECV, TW_ESTABLISHED, true);
	struct tw_state_event e3 = event(7, TW_ESTABLISHED, TW_FIN_WAIT1, true);
	struct filter f = {};
	struct filter_stream s;

	filter_add_comm(&f, "nginx");
	filter_stream_init(&s, &f);
	CHECK_INT(filter_stream_push(&s, &e1, NULL, out), 0);
	CHECK_INT(filter_stream_push(&s, &e2, NULL, out), 0);
	CHECK_INT(s.filtered, 2);
	/* nothing is held any more: a later match hands on itself alone */
	memcpy(e3.owner.comm, "nginx", 6);
	CHECK_INT(filter_stream_push(&s, &e3, NULL, out), 1);
	filter_stream_free(&s);
}

TEST(test_filter_stream_owner_never_known_drops_at_close)
{
	struct tw_state_event out[TW_HELD_MAX + 1];
	struct tw_state_event e1 = event(7, TW_LISTEN, TW_SYN_RECV, false);
	struct tw_state_event e2 = event(7, TW_SYN_RECV, TW_CLOSE, false);
	struct filter f = {};
	struct filter_stream s;

	filter_add_pid(&f, "1234");
	filter_stream_init(&s, &f);
	CHECK_INT(filter_stream_push(&s, &e1, NULL, out), 0);
	CHECK_INT(filter_stream_push(&s, &e2, NULL, out), 0);
	CHECK_INT(s.filtered, 2);
	filter_stream_free(&s);
}

TEST(test_filter_stream_holds_connect_until_its_local_port_is_known)
{
	struct tw_state_event out[TW_HELD_MAX + 1];
	struct tw_state_event e1 = event(7, TW_CLOSE, TW_SYN_SENT, true);
	struct tw_state_event e2 = event(7, TW_SYN_SENT, TW_ESTABLISHED, true);
	struct filter f = {};
	struct filter_stream s;

	filter_add_ports(&f, TW_PORT_LOCAL, "43210");
	filter_stream_init(&s, &f);
	e1.ep.lport = 0;
	CHECK_INT(filter_stream_push(&s, &e1, NULL, out), 0);
	CHECK_INT(filter_stream_push(&s, &e2, NULL, out), 2);
	CHECK_INT(out[0].ep.lport, 0); /* as it was */
	CHECK_INT(out[1].ep.lport, 43210);
	filter_stream_free(&s);
}

TEST(test_filter_stream_holds_at_most_the_kernels_number)
{
	struct tw_state_event out[TW_HELD_MAX + 1];
	struct tw_state_event e = event(7, TW_SYN_RECV, TW_ESTABLISHED, false);
	struct filter f = {};
	struct filter_stream s;
	int i;

	filter_add_pid(&f, "1234");
	filter_stream_init(&s, &f);
	for (i = 0; i < TW_HELD_MAX + 2; i++)
		CHECK_INT(filter_stream_push(&s, &e, NULL, out), 0);
	CHECK_INT(s.held_dropped, 2);
	e.flags |= TW_EV_OWNER_KNOWN;
	CHECK_INT(filter_stream_push(&s, &e, NULL, out), TW_HELD_MAX + 1);
	filter_stream_free(&s);
}

TEST(test_filter_stream_free_forgets_what_is_held)
{
	struct tw_state_event out[TW_HELD_MAX + 1];
	struct filter f = {};
	struct filter_stream s;
	__u64 cookie;

	filter_add_pid(&f, "1234");
	filter_stream_init(&s, &f);
	/* more sockets than buckets: chains */
	for (cookie = 1; cookie <= 3 * FILTER_STREAM_BUCKETS; cookie++) {
		struct tw_state_event e = event(cookie, TW_LISTEN, TW_SYN_RECV, false);

		filter_stream_push(&s, &e, NULL, out);
	}
	filter_stream_free(&s); /* the sanitizer build finds what leaks */
	CHECK_INT(s.held_dropped, 0);
}
