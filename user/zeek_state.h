/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Zeek's connection state code (conn.log's conn_state) for a connection as
 * this endpoint saw it. Zeek names the side that sent the SYN the
 * originator: for a connect() that is us, for an accepted connection the
 * peer. Pure C, from the classification; formatters print the name.
 */
#ifndef TCPWAVE_ZEEK_STATE_H
#define TCPWAVE_ZEEK_STATE_H

#include "conn.h"

enum zeek_state {
	ZEEK_S0,     /* connection attempt, no reply */
	ZEEK_S1,     /* established, not closed */
	ZEEK_SF,     /* established, and both sides sent a FIN */
	ZEEK_REJ,    /* attempt rejected: the responder answered the SYN with a RST */
	ZEEK_S2,     /* established, the originator's FIN but none from the responder */
	ZEEK_S3,     /* established, the responder's FIN but none from the originator */
	ZEEK_RSTO,   /* the originator sent a RST */
	ZEEK_RSTR,   /* the responder sent a RST */
	ZEEK_RSTOS0, /* the originator sent a SYN, then a RST; no SYN-ACK */
	ZEEK_RSTRH,  /* the responder sent a SYN-ACK, then a RST; no SYN seen */
	ZEEK_SH,     /* the originator sent a SYN, then a FIN; no SYN-ACK */
	ZEEK_SHR,    /* the responder sent a SYN-ACK, then a FIN; no SYN seen */
	ZEEK_OTH,    /* no SYN seen: the connection was already open */
	ZEEK_STATE_MAX,
};

enum zeek_state zeek_state_of(const struct tw_conn *c, const struct conn_verdict *v);
/* "S0", "SF", ... as Zeek logs them. */
const char *zeek_state_name(enum zeek_state s);

#endif
