/* counters.h - everything dropped, capped or odd is counted here and shown
 * in the summary; nothing is dropped silently. */
#ifndef SCEPDUMP_COUNTERS_H
#define SCEPDUMP_COUNTERS_H

#include <stdint.h>

/* X-macro so the sinks print every counter without a second list. */
#define COUNTERS_LIST(X) \
	X(packets)              \
	X(bytes)                \
	X(capture_dropped)      \
	X(tcp_segments)         \
	X(not_tcp)              \
	X(truncated_packets)    \
	X(malformed_packets)    \
	X(unsupported_link)     \
	X(ip_fragments)         \
	X(ip_reassembled)       \
	X(ip_frag_dropped)      \
	X(ip_checksum_bad)      \
	X(tcp_checksum_bad)     \
	X(flows)                \
	X(flows_timed_out)      \
	X(flows_capped)         \
	X(flows_shed_not_scep)  \
	X(flows_shed_idle)      \
	X(memory_refused)       \
	X(tcp_retransmissions)  \
	X(tcp_out_of_order)     \
	X(tcp_overlaps_conflicting) \
	X(tcp_gaps)             \
	X(tcp_gap_bytes)        \
	X(reasm_bytes_capped)   \
	X(http_exchanges)       \
	X(http_parse_errors)    \
	X(http_bodies_capped)   \
	X(http_skipped)         \
	X(http_resync_bytes)    \
	X(h2_frames)            \
	X(h2_frame_errors)      \
	X(h2_header_errors)     \
	X(h2_headers_capped)    \
	X(h2_streams_capped)    \
	X(h2_tables_capped)     \
	X(h2_resync_bytes)      \
	X(scep_exchanges)       \
	X(tls_not_shown)        \
	X(tls_opaque_capped)    \
	X(scep_decode_errors)   \
	X(txns_evicted)         \
	X(txn_events_capped)    \
	X(device_events)        \
	X(device_lines_unparsed)   \
	X(device_events_capped) \
	X(device_lines_capped)  \
	X(device_bytes_capped)  \
	X(keylog_capped)        \
	X(dsb_keylog_bytes_capped) \
	X(dsb_other_secrets)    \
	X(tls_connections)      \
	X(tls_records)          \
	X(tls_records_decrypted) \
	X(tls_decrypt_failures) \
	X(tls_no_key)           \
	X(tls_bytes_capped)     \
	X(tls_malformed)        \
	X(tls_desync_bytes)

struct counters {
#define COUNTER_FIELD(name) uint64_t name;
	COUNTERS_LIST(COUNTER_FIELD)
#undef COUNTER_FIELD
	/* Not a count: the snap length that cut the truncated_packets that
	 * were captured short of their wire length (the largest captured
	 * length among them: every packet longer than a snap length is kept
	 * at exactly that length), 0 when none was. */
	uint64_t snap_length;
};

#endif
