/* test_devlog.c - the device-log readers: every line kind with exact field
 * values (from the Intune page's real lines, from lines others published,
 * tests/devlogs/page-* and real-*, expected values read off the lines
 * themselves, and from the synthetic tests/devlogs/ samples),
 * timestamps (7-digit fractions, offsets, default tz, skew, assumed dates
 * and their roll-over), a cut iOS message=, detection, garbage and caps;
 * .evtx through libevtx (skipped in a build without it, which must refuse
 * the file with one clear line instead). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "devlog.h"
#include "../../dissectors/devlog/devlog_reader.h"
#include "scep.h"
#include "testutil.h"

/* 2026-11-25T16:30:08Z */
#define T0 1795624208ULL
#define NS 1000000000ULL

static char *devlog_path(const char *name)
{
	const char *src = getenv("SRCDIR");
	size_t n;
	char *p;

	if (!src)
		src = ".";
	n = strlen(src) + strlen("/tests/devlogs/") + strlen(name) + 1;
	p = malloc(n);
	assert_non_null(p);
	snprintf(p, n, "%s/tests/devlogs/%s", src, name);
	return p;
}

static void read_sample(const char *name, const struct devlog_opts *o, struct devlog_list *l)
{
	char *path = devlog_path(name), err[256];

	memset(l, 0, sizeof(*l));
	assert_int_equal(devlog_read_file_opts(path, o, l, err, sizeof(err)), 0);
	free(path);
}

static int read_text(const char *text, const struct devlog_opts *o, struct devlog_list *l)
{
	char err[256];

	memset(l, 0, sizeof(*l));
	return devlog_read_buf((const uint8_t *)text, strlen(text), o, l, err, sizeof(err));
}

static void opts_2026(struct devlog_opts *o)
{
	devlog_opts_init(o);
	o->year = 2026;
	o->month = 11;
	o->day = 25;
}

static void test_android_sample(void **state)
{
	struct devlog_list l;
	const struct devlog_event *e;

	(void)state;
	read_sample("android-scepclient-post-enroll.log", NULL, &l);
	assert_int_equal(l.format, DEVLOG_ANDROID);
	assert_int_equal(l.lines, 17);
	assert_int_equal(l.unparsed_lines, 0);
	assert_int_equal(l.ignored_lines, 1);       /* the SyncmlSession line */
	assert_int_equal(l.n, 16);

	e = &l.ev[2];
	assert_int_equal(e->kind, DEVLOG_REQUEST_SENT);
	assert_int_equal(e->line_no, 3);
	assert_string_equal(e->source, "android");
	assert_string_equal(e->op, "GetCACert");
	assert_string_equal(e->url, "http://127.0.0.1:8001/scep?operation=GetCACert");
	assert_string_equal(e->level, "VERB");
	assert_string_equal(e->component, "org.jscep.transport.UrlConnectionGetTransport");
	/* .7590430: 7 digits, no offset, default tz 0 */
	assert_int_equal(e->ts_ns, T0 * NS + 759043000);
	assert_int_equal(e->ts_has_offset, 0);

	e = &l.ev[3];
	assert_int_equal(e->kind, DEVLOG_RESPONSE);
	assert_int_equal(e->http_status, 200);
	assert_string_equal(e->op, "GetCACert");
	assert_int_equal(e->pki_status, -1);

	e = &l.ev[6];                               /* PkcsReq dump */
	assert_int_equal(e->kind, DEVLOG_REQUEST_SENT);
	assert_string_equal(e->op, "PKIOperation");
	assert_string_equal(e->transaction_id, "eVR2qLO2xP76vimZJ9QCdo3BhVI=");
	assert_int_equal(e->message_type, SCEP_MT_PKCSREQ);
	assert_string_equal(e->sender_nonce, "33A18A4DEB1E71654527FC86FDEFF948");
	assert_null(e->recipient_nonce);

	e = &l.ev[7];
	assert_int_equal(e->kind, DEVLOG_REQUEST_SENT);
	assert_string_equal(e->op, "PKIOperation");
	assert_string_equal(e->url, "http://127.0.0.1:8001/scep?operation=PKIOperation");

	e = &l.ev[9];                               /* CertRep dump */
	assert_int_equal(e->kind, DEVLOG_RESPONSE);
	assert_int_equal(e->pki_status, SCEP_STATUS_SUCCESS);
	assert_int_equal(e->fail_info, -1);
	assert_int_equal(e->message_type, SCEP_MT_CERTREP);
	assert_string_equal(e->transaction_id, "eVR2qLO2xP76vimZJ9QCdo3BhVI=");
	assert_string_equal(e->recipient_nonce, "33A18A4DEB1E71654527FC86FDEFF948");
	assert_int_equal(e->ts_ns, T0 * NS + 771600000);

	e = &l.ev[10];
	assert_int_equal(e->kind, DEVLOG_CERT_STATE);
	assert_string_equal(e->cert_name, "ModelName=AC_51bad41f%2FLogicalName_39907e2a;Hash=1677525787");
	assert_string_equal(e->state_from, "CERT_ENROLLED");
	assert_string_equal(e->state_to, "CERT_INSTALL_REQUESTED");

	e = &l.ev[12];                              /* the trusted root, not the SCEP cert */
	assert_int_equal(e->kind, DEVLOG_CERT_STATE);
	assert_int_equal(e->root_cert, 1);
	assert_string_equal(e->state_to, "CERT_INSTALL_SUCCESS");
	assert_string_equal(e->cert_name, "17E5A2C4");

	/* as on the Intune page: the SCEP cert leaves CERT_INSTALLING for
	 * CERT_ACCESS_REQUESTED, no CERT_INSTALL_SUCCESS of its own */
	e = &l.ev[14];
	assert_int_equal(e->kind, DEVLOG_INSTALLED);
	assert_int_equal(e->root_cert, 0);
	assert_string_equal(e->state_from, "CERT_INSTALLING");
	assert_string_equal(e->state_to, "CERT_ACCESS_REQUESTED");
	assert_int_equal(e->ts_ns, (T0 + 4) * NS + 346000000);

	e = &l.ev[15];
	assert_int_equal(e->kind, DEVLOG_ACCESS_GRANTED);
	assert_string_equal(e->state_from, "CERT_ACCESS_REQUESTED");
	assert_int_equal(e->line_no, 16);
	devlog_list_free(&l);
}

static void test_android_failure(void **state)
{
	struct devlog_list l;

	(void)state;
	read_sample("android-wrong-challenge.log", NULL, &l);
	assert_int_equal(l.n, 6);
	assert_int_equal(l.ev[3].kind, DEVLOG_RESPONSE);
	assert_int_equal(l.ev[3].pki_status, SCEP_STATUS_FAILURE);
	assert_int_equal(l.ev[3].fail_info, SCEP_FAIL_BADREQUEST);
	assert_string_equal(l.ev[3].transaction_id, "HlOfSCoh1SHeA4UxsEp13VZPrGA=");
	assert_int_equal(l.ev[4].kind, DEVLOG_ERROR);
	assert_int_equal(l.ev[4].has_error_code, 1);
	assert_int_equal(l.ev[4].error_code, 0x80094800);
	assert_int_equal(l.ev[5].kind, DEVLOG_ERROR);
	assert_string_equal(l.ev[5].state_to, "CERT_ENROLL_FAILED");
	assert_int_equal(l.ev[5].has_error_code, 0);
	devlog_list_free(&l);
}

/* Lines exactly as the Microsoft troubleshooting page prints them. */
static void test_android_seed_lines(void **state)
{
	struct devlog_list l;
	const char *text =
		"2018-02-27T04:53:32.0390000    INFO    Event     com.microsoft.omadm.platforms.android.certmgr.state.NativeRootCertInstallStateMachine     9595       14    Root cert '17\xe2\x80\xa6' state changed from CERT_INSTALLING to CERT_INSTALL_SUCCESS\n"
		"2018-02-27T05:16:20.6530000    VERB    Event     org.jscep.transport.UrlConnectionGetTransport    18327       10    Received '200 OK' when sending GetCACert(ca) to https://<server>-contoso.msappproxy.net/certsrv/mscep/mscep.dll?operation=GetCACert&message=ca\n"
		"2018-02-27T05:16:28.0340000    VERB    Event     org.jscep.transaction.EnrollmentTransaction    18327       10    Response: org.jscep.message.CertRep@3150777b[failInfo=<null>,pkiStatus=SUCCESS,recipientNonce=Nonce [GUID],messageData=org.spongycastle.cms.CMSSignedData@27cc8998,messageType=CERT_REP,senderNonce=Nonce [GUID],transId=TRANSID]\n"
		"2018-02-27T05:20:15.3520000    INFO    Event     com.microsoft.omadm.platforms.android.certmgr.state.NativeScepCertInstallStateMachine    18327       21    SCEP cert 'ModelName=AC_51\xe2\x80\xa6%2FLogicalName_39907\xe2\x80\xa6;Hash=1677525787' state changed from CERT_ACCESS_REQUESTED to CERT_ACCESS_GRANTED\n";

	(void)state;
	assert_int_equal(devlog_detect((const uint8_t *)text, strlen(text)), DEVLOG_ANDROID);
	assert_int_equal(read_text(text, NULL, &l), 0);
	assert_int_equal(l.n, 4);
	/* the page shows CERT_INSTALL_SUCCESS for the root certificate only */
	assert_int_equal(l.ev[0].kind, DEVLOG_CERT_STATE);
	assert_int_equal(l.ev[0].root_cert, 1);
	/* non-ASCII kept visible, escaped */
	assert_string_equal(l.ev[0].cert_name, "17\xe2\x80\xa6");
	/* 2018-02-27T04:53:32.039 */
	assert_int_equal(l.ev[0].ts_ns, 1519707212ULL * NS + 39000000);
	assert_int_equal(l.ev[1].kind, DEVLOG_RESPONSE);
	assert_int_equal(l.ev[1].http_status, 200);
	assert_string_equal(l.ev[1].op, "GetCACert");
	assert_string_equal(l.ev[1].url,
			    "https://<server>-contoso.msappproxy.net/certsrv/mscep/mscep.dll?operation=GetCACert&message=ca");
	assert_string_equal(l.ev[2].transaction_id, "TRANSID");
	assert_string_equal(l.ev[2].sender_nonce, "GUID");
	assert_int_equal(l.ev[2].pki_status, SCEP_STATUS_SUCCESS);
	assert_int_equal(l.ev[3].kind, DEVLOG_ACCESS_GRANTED);
	assert_int_equal(l.ev[3].line_no, 4);
	devlog_list_free(&l);
}

static void test_timestamps(void **state)
{
	struct devlog_list l;
	struct devlog_opts o;
	const char *android =
		"2026-11-25T17:30:08.1234567    INFO    Event     x.certmgr.A    1    2    SCEP thing\n"
		"2026-11-25T17:30:08.1234567+01:00    INFO    Event     x.certmgr.A    1    2    SCEP thing\n"
		"2026-11-25T16:30:08.123456789123    INFO    Event     x.certmgr.A    1    2    SCEP thing\n"
		"2026-11-25T16:30:08Z    INFO    Event     x.certmgr.A    1    2    SCEP thing\n";
	const char *unified =
		"2026-11-25 17:30:08.500000+0100 0x1 Default 0x0 1 0 profiled: SCEP a\n"
		"2026-11-25 11:30:08.500000-05:00 0x1 Default 0x0 1 0 profiled: SCEP b\n";
	const char *syslog =
		"Dec 31 23:59:59 iPhone profiled[1] <Notice>: SCEP a\n"
		"Jan  1 00:00:01 iPhone profiled[1] <Notice>: SCEP b\n";
	const char *copy =
		"Debug 23:59:59.000001 -0500 profiled SCEP a\\\n"
		"Debug 00:00:01.5 -0500 profiled SCEP b\\\n";

	(void)state;
	devlog_opts_init(&o);
	o.default_tz_offset_s = 3600;               /* device in CET */
	o.skew_ns = -2 * (int64_t)NS;               /* its clock 2 s ahead */
	assert_int_equal(read_text(android, &o, &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.ev[0].ts_ns, (T0 - 2) * NS + 123456700);
	assert_int_equal(l.ev[0].ts_has_offset, 0);
	/* own offset wins over the default */
	assert_int_equal(l.ev[1].ts_ns, (T0 - 2) * NS + 123456700);
	assert_int_equal(l.ev[1].ts_has_offset, 1);
	/* past-nanosecond digits dropped; default tz applied */
	assert_int_equal(l.ev[2].ts_ns, (T0 - 3600 - 2) * NS + 123456789);
	assert_int_equal(l.ev[3].ts_ns, (T0 - 2) * NS);
	devlog_list_free(&l);

	devlog_opts_init(&o);
	assert_int_equal(read_text(unified, &o, &l), 0);
	assert_int_equal(l.format, DEVLOG_IOS);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0].ts_ns, T0 * NS + 500000000);
	assert_int_equal(l.ev[1].ts_ns, T0 * NS + 500000000);
	assert_int_equal(l.ev[0].ts_date_assumed, 0);
	assert_string_equal(l.ev[0].component, "profiled");
	assert_string_equal(l.ev[0].level, "Default");
	devlog_list_free(&l);

	/* no year: the option's, plus one when the month goes back */
	devlog_opts_init(&o);
	o.year = 2025;
	o.default_tz_offset_s = -3600;
	assert_int_equal(read_text(syslog, &o, &l), 0);
	assert_int_equal(l.n, 2);
	/* 2025-12-31T23:59:59-01:00 = 2026-01-01T00:59:59Z */
	assert_int_equal(l.ev[0].ts_ns, 1767229199ULL * NS);
	assert_int_equal(l.ev[0].ts_date_assumed, 1);
	assert_int_equal(l.ev[1].ts_ns, 1767229201ULL * NS);
	assert_string_equal(l.ev[1].level, "Notice");
	devlog_list_free(&l);

	/* no year at all, none given and no capture: no date, the time of
	 * day kept (00:00:00 UTC), never 1970 */
	devlog_opts_init(&o);
	assert_int_equal(read_text("Jan  2 00:00:00 h profiled[1]: SCEP x\n", &o, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ev[0].ts_no_date, 1);
	assert_int_equal(l.ev[0].ts_ns % (86400 * NS), 0);
	assert_true(l.ev[0].ts_ns >= 365 * 86400 * NS);
	devlog_list_free(&l);

	/* no year, a capture on 2026-01-02: a line of Dec 31 is of 2025 */
	devlog_opts_init(&o);
	o.ref_ts_ns = 1767312000ULL * NS;           /* 2026-01-02T00:00:00Z */
	assert_int_equal(read_text("Dec 31 23:00:00 h profiled[1]: SCEP x\n", &o, &l), 0);
	assert_int_equal(l.ev[0].ts_no_date, 0);
	assert_int_equal(l.ev[0].ts_ns, 1767222000ULL * NS);   /* 2025-12-31T23:00:00Z */
	devlog_list_free(&l);

	/* no date: the option's, plus a day when the clock goes back */
	opts_2026(&o);
	assert_int_equal(read_text(copy, &o, &l), 0);
	assert_int_equal(l.n, 2);
	/* 2026-11-25T23:59:59.000001-05:00 */
	assert_int_equal(l.ev[0].ts_ns, (1795651199ULL + 5 * 3600) * NS + 1000);
	assert_int_equal(l.ev[1].ts_ns, (1795651201ULL + 5 * 3600) * NS + 500000000);
	assert_int_equal(l.ev[1].ts_has_offset, 1);
	assert_int_equal(l.ev[1].ts_date_assumed, 1);
	devlog_list_free(&l);
}

static void test_ios_sample(void **state)
{
	struct devlog_list l;
	const struct devlog_event *e;

	(void)state;
	read_sample("ios-certmonger-get-enroll.log", NULL, &l);
	assert_int_equal(l.format, DEVLOG_IOS);
	assert_int_equal(l.lines, 9);
	assert_int_equal(l.unparsed_lines, 1);      /* the column header */
	assert_int_equal(l.ignored_lines, 1);
	assert_int_equal(l.n, 7);
	e = &l.ev[0];
	assert_int_equal(e->kind, DEVLOG_REQUEST_SENT);
	assert_string_equal(e->op, "GetCACaps");
	assert_string_equal(e->url, "http://127.0.0.1:8002/scep?operation=GetCACaps&message=0");
	assert_int_equal(e->ts_ns, (T0 + 2) * NS + 503989000);
	assert_int_equal(e->ts_has_offset, 1);
	e = &l.ev[4];
	assert_string_equal(e->op, "PKIOperation");
	assert_int_equal(e->message_cut, 0);
	assert_null(e->decode_note);
	assert_string_equal(e->transaction_id,
			    "5144491690879529360878486159391127810268425020412081902742954422986051904389");
	assert_int_equal(e->message_type, SCEP_MT_PKCSREQ);
	assert_string_equal(e->sender_nonce, "ABEDF31D28B37E28868B0B4FCB7FB65D");
	assert_int_equal(e->ts_ns, (T0 + 3) * NS + 955918000);
	assert_int_equal(l.ev[5].kind, DEVLOG_OTHER);
	e = &l.ev[6];
	assert_int_equal(e->kind, DEVLOG_INSTALLED);
	assert_string_equal(e->cert_name,
			    "www.windowsintune.com.SCEP.ModelName=AC_51bad41f.../LogicalName_1892fe4c...;Hash=-912418295");
	devlog_list_free(&l);
}

static void test_ios_cut(void **state)
{
	struct devlog_list l;
	struct devlog_opts o;
	const struct devlog_event *e;
	size_t len;
	uint8_t *req = test_load("certmonger-get-request.txt", &len);
	char *m = strstr((char *)req, "message="), *line;
	size_t n;

	(void)state;
	/* 1500 characters: the envelope only; transactionID is in the
	 * signerInfo after it, so only the cut and the note come out */
	opts_2026(&o);
	read_sample("ios-certmonger-get-enroll-cut.log", &o, &l);
	assert_int_equal(l.n, 5);
	e = &l.ev[2];
	assert_int_equal(e->kind, DEVLOG_REQUEST_SENT);
	assert_string_equal(e->op, "PKIOperation");
	assert_int_equal(e->message_cut, 1);
	assert_null(e->transaction_id);
	assert_non_null(e->decode_note);
	assert_non_null(strstr(e->decode_note, "truncated"));
	assert_int_equal(strlen(e->url), strlen("http://127.0.0.1:8002/scep?operation=PKIOperation&message=") + 1500);
	assert_int_equal(e->ts_ns, (T0 + 3) * NS + 955918000);
	assert_int_equal(e->ts_date_assumed, 1);
	assert_int_equal(l.ev[4].kind, DEVLOG_INSTALLED);
	/* RTF \'93..\'94 quotes and the trailing backslash */
	assert_string_equal(l.ev[4].cert_name,
			    "www.windowsintune.com.SCEP.ModelName=AC_51bad41f.../LogicalName_1892fe4c...;Hash=-912418295");
	devlog_list_free(&l);

	/* cut after the signed attributes (3500 of 3822 characters): the
	 * partial decode still finds the transactionID */
	assert_non_null(m);
	n = strlen("Debug 11:30:11.955918 -0500 profiled Performing synchronous URL request: http://h/") +
	    (size_t)(m - (char *)req) + 8 + 3500 + 8;
	line = malloc(n);
	assert_non_null(line);
	snprintf(line, n, "Debug 11:30:11.955918 -0500 profiled Performing synchronous URL request: http://h%.*s\\\n",
		 (int)((m - (char *)req) - 4 + 8 + 3500), (char *)req + 4);
	assert_int_equal(read_text(line, &o, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ev[0].message_cut, 1);
	assert_string_equal(l.ev[0].transaction_id,
			    "5144491690879529360878486159391127810268425020412081902742954422986051904389");
	assert_int_equal(l.ev[0].message_type, SCEP_MT_PKCSREQ);
	devlog_list_free(&l);
	free(line);
	free(req);
}

static void test_ios_errors(void **state)
{
	struct devlog_list l;
	struct devlog_opts o;

	(void)state;
	opts_2026(&o);
	o.default_tz_offset_s = 3600;
	read_sample("ios-wrong-challenge-syslog.log", &o, &l);
	assert_int_equal(l.lines, 17);
	assert_int_equal(l.unparsed_lines, 0);      /* the NSError dumps belong to their lines */
	assert_int_equal(l.n, 4);
	assert_int_equal(l.ignored_lines, 1);       /* SpringBoard */
	assert_int_equal(l.ev[0].ts_ns, (T0 + 13) * NS);
	assert_int_equal(l.ev[2].kind, DEVLOG_ERROR);
	assert_int_equal(l.ev[2].has_error_code, 1);
	assert_int_equal(l.ev[2].error_code, 22013);
	assert_string_equal(l.ev[2].error_domain, "MCSCEPErrorDomain");
	assert_string_equal(l.ev[2].level, "Notice");
	assert_int_equal(l.ev[3].kind, DEVLOG_ERROR);
	assert_int_equal(l.ev[3].error_code, 4001);
	assert_string_equal(l.ev[3].error_domain, "MCInstallationErrorDomain");
	assert_int_equal(l.ev[3].line_no, 9);
	devlog_list_free(&l);

	/* negative NSError codes, the one-line NSError description; "not
	 * installed." and "could not be installed" are failures, not installs */
	assert_int_equal(read_text("Nov 25 17:30:21 iPhone profiled[312] <Notice>: Profile \"x\" not installed.\n"
				   "Nov 25 17:30:21 iPhone profiled[312] <Notice>: SCEP failed Code=-1001\n"
				   "Nov 25 17:30:21 iPhone profiled[312] <Error>: Profile \xe2\x80\x9cy\xe2\x80\x9d could not be "
				   "installed: Error Domain=MCInstallationErrorDomain Code=4001\n",
				   &o, &l), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.ev[0].kind, DEVLOG_ERROR);
	assert_int_equal(l.ev[0].has_error_code, 0);
	assert_string_equal(l.ev[0].text, "Profile \"x\" not installed.");
	assert_int_equal(l.ev[1].kind, DEVLOG_ERROR);
	assert_int_equal(l.ev[1].error_code, -1001);
	assert_null(l.ev[1].error_domain);
	assert_int_equal(l.ev[2].kind, DEVLOG_ERROR);
	assert_int_equal(l.ev[2].error_code, 4001);
	assert_string_equal(l.ev[2].error_domain, "MCInstallationErrorDomain");
	devlog_list_free(&l);
}

static void test_windows(void **state)
{
	struct devlog_list l;

	(void)state;
	read_sample("windows-strongswan-enroll.xml", NULL, &l);
	assert_int_equal(l.format, DEVLOG_WINDOWS_XML);
	assert_int_equal(l.lines, 3);
	assert_int_equal(l.ignored_lines, 1);       /* event 72, not SCEP */
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0].kind, DEVLOG_OTHER);
	assert_int_equal(l.ev[0].event_id, 36);
	assert_int_equal(l.ev[1].kind, DEVLOG_INSTALLED);
	assert_int_equal(l.ev[1].event_id, 39);
	assert_int_equal(l.ev[1].line_no, 3);
	assert_int_equal(l.ev[1].ts_ns, (T0 + 6) * NS + 218000000);
	assert_int_equal(l.ev[1].ts_has_offset, 1);
	assert_string_equal(l.ev[1].level, "Information");
	assert_string_equal(l.ev[1].source, "windows");
	assert_string_equal(l.ev[1].component,
			    "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider");
	assert_string_equal(l.ev[1].text,
			    "SCEP: Certificate installed successfully. Message1=SCEP: Certificate installed successfully.");
	devlog_list_free(&l);

	/* UTF-16LE with BOM, <Events> root, CRLF, RenderedXml: 306 is the
	 * profile arriving (Information; its 0x2ab0003 is no error), 32 the
	 * enrollment failing */
	read_sample("windows-wrong-challenge-utf16.xml", NULL, &l);
	assert_int_equal(l.format, DEVLOG_WINDOWS_XML);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0].kind, DEVLOG_OTHER);
	assert_int_equal(l.ev[0].event_id, 306);
	assert_int_equal(l.ev[0].line_no, 2);
	assert_int_equal(l.ev[0].has_error_code, 0);
	assert_string_equal(l.ev[0].level, "Information");
	assert_int_equal(l.ev[1].kind, DEVLOG_ERROR);
	assert_int_equal(l.ev[1].event_id, 32);
	assert_int_equal(l.ev[1].line_no, 3);
	assert_int_equal(l.ev[1].has_error_code, 1);
	assert_int_equal(l.ev[1].error_code, 0x80094800);
	assert_string_equal(l.ev[1].text,
			    "SCEP: Certificate enroll failed. Result: (The requested certificate template is not supported by this CA.).");
	assert_string_equal(l.ev[1].level, "Error");
	devlog_list_free(&l);
}

static void test_windows_malformed(void **state)
{
	struct devlog_list l;
	struct devlog_opts o;
	const char *xml =
		"<Event><System><EventID>39</EventID></System></Event>\n"                      /* no time */
		"<Event><System><EventID>x</EventID><TimeCreated SystemTime='2026-11-25T16:30:08Z'/></System></Event>\n"
		"<Event><System><EventID>39</EventID><TimeCreated SystemTime=2026/></System></Event>\n"
		"<Event><System><EventID>99</EventID><Level>2</Level><TimeCreated SystemTime=\"2026-11-25T16:30:08.5Z\"/></System>"
		"<EventData><Data>SCEP went wrong 0x8007000D</Data><Data Name='n'/></EventData></Event>\n"
		"<Event><System><EventID>39</EventID><TimeCreated SystemTime='2026-11-25T16:30:08Z'/>";  /* cut */

	(void)state;
	devlog_opts_init(&o);
	o.force = DEVLOG_WINDOWS_XML;
	assert_int_equal(read_text(xml, &o, &l), 0);
	assert_int_equal(l.lines, 5);
	assert_int_equal(l.unparsed_lines, 4);
	assert_int_equal(l.n, 1);
	/* an unlisted ID at Error level that says SCEP */
	assert_int_equal(l.ev[0].kind, DEVLOG_ERROR);
	assert_int_equal(l.ev[0].event_id, 99);
	assert_int_equal(l.ev[0].error_code, 0x8007000D);
	assert_int_equal(l.ev[0].ts_ns, T0 * NS + 500000000);
	assert_int_equal(l.ev[0].line_no, 4);
	devlog_list_free(&l);
}

static void test_detect(void **state)
{
	static const struct {
		const char *name;
		enum devlog_format f;
	} files[] = {
		{ "android-scepclient-post-enroll.log", DEVLOG_ANDROID },
		{ "android-wrong-challenge.log", DEVLOG_ANDROID },
		{ "ios-certmonger-get-enroll.log", DEVLOG_IOS },
		{ "ios-certmonger-get-enroll-cut.log", DEVLOG_IOS },
		{ "ios-wrong-challenge-syslog.log", DEVLOG_IOS },
		{ "windows-strongswan-enroll.xml", DEVLOG_WINDOWS_XML },
	};
	struct devlog_list l;
	struct devlog_opts o;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		read_sample(files[i].name, NULL, &l);
		assert_int_equal(l.format, files[i].f);
		devlog_list_free(&l);
	}
	assert_int_equal(devlog_detect((const uint8_t *)"hello\nworld\n", 12), DEVLOG_UNKNOWN);
	assert_int_equal(devlog_detect(NULL, 0), DEVLOG_UNKNOWN);
	memset(&l, 0, sizeof(l));
	assert_int_equal(devlog_read_buf((const uint8_t *)"hello\n", 6, NULL, &l, err, sizeof(err)),
			 DEVLOG_E_FORMAT);
	assert_non_null(strstr(err, "not a device log"));
	devlog_list_free(&l);
	/* forced: nothing parses, everything counted, no error */
	devlog_opts_init(&o);
	o.force = DEVLOG_ANDROID;
	assert_int_equal(read_text("hello\n\nworld\n", &o, &l), 0);
	assert_int_equal(l.lines, 3);
	assert_int_equal(l.unparsed_lines, 2);
	assert_int_equal(l.n, 0);
	devlog_list_free(&l);
	memset(&l, 0, sizeof(l));
	assert_int_equal(devlog_read_file("/nonexistent/x.log", DEVLOG_AUTO, 0, 0, &l, err, sizeof(err)),
			 DEVLOG_E_IO);
	assert_non_null(strstr(err, "/nonexistent/x.log"));
	assert_int_equal(devlog_format_from_name("ios"), DEVLOG_IOS);
	assert_int_equal(devlog_format_from_name("windows-xml"), DEVLOG_WINDOWS_XML);
	assert_int_equal(devlog_format_from_name("evtx"), DEVLOG_UNKNOWN);
	assert_string_equal(devlog_kind_name(DEVLOG_ACCESS_GRANTED), "ACCESS_GRANTED");
	assert_string_equal(devlog_kind_name(DEVLOG_REQUEST_SENT), "REQUEST_SENT");
}

static void test_garbage(void **state)
{
	struct devlog_list l;
	struct devlog_opts o;
	size_t big = DEVLOG_LINE_MAX + 100, n;
	char *text;
	const char *head =
		"2026-11-25T16:30:08.0000000    INFO    Event     x.certmgr.A    1    2    SCEP ok\n"
		"2026-13-25T16:30:08.0000000    INFO    Event     x.certmgr.A    1    2    month 13\n"
		"2026-11-25T16:30    INFO    cut time\n"
		"\x01\x02\xff\xfe garbage\n"
		"2026-11-25T16:30:08.0000000    INFO    Event     x.certmgr.A    1    2    SCEP cert 'x' state changed from A\n"
		"2026-11-25T16:30:08.0000000    INFO    Event     x.certmgr.A    1    2    Received 'abc' when sending\n"
		"2026-11-25T16:30:08.0000000    INFO    Event     x.certmgr.A    1    2    Sending \n"
		"2026-11-25T16:30:08.0000000    INFO    Event     x.certmgr.A    1    2    org.jscep.message.CertRep@1[transId=\n"
		"2026-11-25T16:30:08.0000000    INFO\n"
		"2026-11-25T16:30:08.0000000    INFO    Event     x.certmgr.A    1    2    Sending PKIOperation(x) to http://h/?operation=PKIOperation&message=%%%\n";

	(void)state;
	n = strlen(head) + big + 2;
	text = malloc(n);
	assert_non_null(text);
	memcpy(text, head, strlen(head));
	/* one over-long line: parsed from its start, counted */
	memset(text + strlen(head), 'A', big);
	memcpy(text + strlen(head), "2026-11-25T16:30:08.0000000    INFO    Event     x.certmgr.A    1    2    SCEP ", 77);
	text[n - 2] = '\n';
	text[n - 1] = '\0';
	devlog_opts_init(&o);
	o.force = DEVLOG_ANDROID;
	assert_int_equal(read_text(text, &o, &l), 0);
	assert_int_equal(l.lines, 11);
	assert_int_equal(l.unparsed_lines, 3);      /* month 13, cut time, binary */
	assert_int_equal(l.ignored_lines, 1);       /* level and nothing else */
	assert_int_equal(l.long_lines, 1);
	assert_int_equal(l.n, 7);
	assert_int_equal(l.ev[1].kind, DEVLOG_OTHER);   /* half a state line */
	assert_int_equal(l.ev[2].kind, DEVLOG_RESPONSE);
	assert_int_equal(l.ev[2].http_status, 0);
	assert_int_equal(l.ev[5].kind, DEVLOG_REQUEST_SENT);
	assert_int_equal(l.ev[5].message_cut, 1);
	assert_int_equal(l.decode_failed, 1);
	assert_true(strlen(l.ev[6].text) <= DEVLOG_TEXT_MAX);
	devlog_list_free(&l);
	free(text);

	/* the same garbage as iOS and as Windows: counted, never fatal */
	o.force = DEVLOG_IOS;
	assert_int_equal(read_text(head, &o, &l), 0);
	assert_int_equal(l.unparsed_lines, 10);
	devlog_list_free(&l);
	o.force = DEVLOG_WINDOWS_XML;
	assert_int_equal(read_text("<Event <Event> </Event <Event", &o, &l), 0);
	assert_int_equal(l.n, 0);
	devlog_list_free(&l);
}

static void test_caps(void **state)
{
	struct devlog_list l;
	struct devlog_opts o;
	char *path = devlog_path("android-scepclient-post-enroll.log"), err[256];

	(void)state;
	devlog_opts_init(&o);
	o.max_events = 3;
	read_sample("android-scepclient-post-enroll.log", &o, &l);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.capped, 13);
	assert_int_equal(l.lines, 17);
	devlog_list_free(&l);

	devlog_opts_init(&o);
	o.max_lines = 4;
	read_sample("android-scepclient-post-enroll.log", &o, &l);
	assert_int_equal(l.lines, 4);
	assert_int_equal(l.lines_capped, 13);
	assert_int_equal(l.n, 4);
	devlog_list_free(&l);

	/* the first 600 bytes: three whole lines and part of the fourth */
	devlog_opts_init(&o);
	o.max_bytes = 600;
	memset(&l, 0, sizeof(l));
	assert_int_equal(devlog_read_file_opts(path, &o, &l, err, sizeof(err)), 0);
	assert_int_equal(l.bytes_capped, 4160 - 600);
	assert_int_equal(l.lines, 4);
	devlog_list_free(&l);

	devlog_opts_init(&o);
	o.max_lines = 1;
	read_sample("windows-strongswan-enroll.xml", &o, &l);
	assert_int_equal(l.lines, 1);
	assert_int_equal(l.lines_capped, 2);
	devlog_list_free(&l);
	free(path);
}

/* ---- the Intune page's own excerpts, byte for byte (tests/devlogs/page-*) */

/* The page's Android lines: the root certificate's machine, then the
 * SCEP certificate's, which goes CERT_INSTALLING -> CERT_ACCESS_REQUESTED
 * -> CERT_ACCESS_GRANTED with no CERT_INSTALL_SUCCESS: that is delivery. */
static void test_page_android_excerpt(void **state)
{
	struct devlog_list l;
	const struct devlog_event *e;
	size_t i, installed = 0, granted = 0;

	(void)state;
	read_sample("page-android-omadm.log", NULL, &l);
	assert_int_equal(l.format, DEVLOG_ANDROID);
	assert_int_equal(l.lines, 14);
	assert_int_equal(l.unparsed_lines, 0);
	assert_int_equal(l.n, 14);
	for (i = 0; i < 3; i++) {
		e = &l.ev[i];
		assert_int_equal(e->kind, DEVLOG_CERT_STATE);
		assert_int_equal(e->root_cert, 1);
		assert_string_equal(e->cert_name, "17\xe2\x80\xa6");
	}
	assert_string_equal(l.ev[2].state_to, "CERT_INSTALL_SUCCESS");
	/* "There are 1 requests", "Trying to enroll ...": nothing to type */
	assert_int_equal(l.ev[3].kind, DEVLOG_OTHER);
	assert_int_equal(l.ev[4].kind, DEVLOG_OTHER);
	e = &l.ev[9];                               /* Response: ...CertRep@3150777b[...] */
	assert_int_equal(e->kind, DEVLOG_RESPONSE);
	assert_int_equal(e->pki_status, SCEP_STATUS_SUCCESS);
	assert_string_equal(e->transaction_id, "TRANSID");
	/* 2018-02-27T05:16:28.0340000, no offset: UTC by default */
	assert_int_equal(e->ts_ns, 1519708588ULL * NS + 34000000);
	e = &l.ev[10];
	assert_int_equal(e->kind, DEVLOG_CERT_STATE);
	assert_string_equal(e->state_from, "CERT_ENROLLED");
	assert_string_equal(e->state_to, "CERT_INSTALL_REQUESTED");
	assert_string_equal(e->cert_name, "ModelName=AC_51\xe2\x80\xa6%2FLogicalName_39907\xe2\x80\xa6;Hash=1677525787");
	assert_int_equal(l.ev[11].kind, DEVLOG_CERT_STATE);  /* -> CERT_INSTALLING */
	e = &l.ev[12];
	assert_int_equal(e->kind, DEVLOG_INSTALLED);
	assert_int_equal(e->root_cert, 0);
	assert_string_equal(e->state_from, "CERT_INSTALLING");
	assert_string_equal(e->state_to, "CERT_ACCESS_REQUESTED");
	e = &l.ev[13];
	assert_int_equal(e->kind, DEVLOG_ACCESS_GRANTED);
	assert_int_equal(e->line_no, 14);
	/* 2018-02-27T05:20:15.3520000 */
	assert_int_equal(e->ts_ns, 1519708815ULL * NS + 352000000);
	for (i = 0; i < l.n; i++) {
		installed += l.ev[i].kind == DEVLOG_INSTALLED && !l.ev[i].root_cert;
		granted += l.ev[i].kind == DEVLOG_ACCESS_GRANTED;
	}
	assert_int_equal(installed, 1);
	assert_int_equal(granted, 1);
	devlog_list_free(&l);
}

/* The page's iOS lines: a Console.app copy, no date. Alone they keep the
 * time of day and say the date is unknown; --device-date or a capture
 * gives it. Its PKIOperation message= is cut by the log after 477 base64
 * characters: the URL goes on as logged, counted as cut, not unparsed. */
static void test_page_ios_excerpt(void **state)
{
	static const char url_head[] =
		"https://<server>-contoso.msappproxy.net/certsrv/mscep/mscep.dll?operation=PKIOperation&message=";
	struct devlog_list l;
	struct devlog_opts o;
	const struct devlog_event *e;
	/* 18:30:53.691033 -0500 is 23:30:53.691033 UTC */
	const uint64_t tod0 = (23 * 3600 + 30 * 60 + 53) * NS + 691033000;

	(void)state;
	devlog_opts_init(&o);
	read_sample("page-ios-console.log", &o, &l);
	assert_int_equal(l.format, DEVLOG_IOS);
	assert_int_equal(l.lines, 5);
	assert_int_equal(l.unparsed_lines, 0);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.messages_cut, 1);
	e = &l.ev[0];
	assert_int_equal(e->kind, DEVLOG_REQUEST_SENT);
	assert_string_equal(e->op, "GetCACert");
	/* the RTF line end "\" is not part of the URL */
	assert_string_equal(e->url,
			    "https://<server>-contoso.msappproxy.net/certsrv/mscep/mscep.dll?operation=GetCACert&message=SCEP%20Authority");
	assert_string_equal(e->level, "Debug");
	assert_string_equal(e->component, "profiled");
	assert_int_equal(e->ts_has_offset, 1);
	assert_int_equal(e->ts_date_assumed, 1);
	assert_int_equal(e->ts_no_date, 1);
	assert_int_equal(e->ts_ns % (86400 * NS), tod0);
	assert_string_equal(l.ev[1].op, "GetCACaps");
	e = &l.ev[2];
	assert_int_equal(e->kind, DEVLOG_REQUEST_SENT);
	assert_string_equal(e->op, "PKIOperation");
	assert_int_equal(e->message_cut, 1);
	assert_int_equal(strlen(e->url), strlen(url_head) + 477);
	assert_memory_equal(e->url, url_head, strlen(url_head));
	assert_memory_equal(e->url + strlen(url_head), "MIAGCSqGSIb3DQEHAqCAMIACAQEx", 28);
	assert_string_equal(e->url + strlen(e->url) - 8, "0ZwEWRQG");
	assert_int_equal(l.ev[3].kind, DEVLOG_OTHER);     /* Adding dependent ... */
	e = &l.ev[4];
	assert_int_equal(e->kind, DEVLOG_INSTALLED);
	assert_string_equal(e->level, "Default");
	assert_string_equal(e->cert_name,
			    "www.windowsintune.com.SCEP.ModelName=AC_51bad41f.../LogicalName_1892fe4c...;Hash=-912418295");
	/* 3.629583 s after the first line, whatever the date */
	assert_int_equal(e->ts_ns - l.ev[0].ts_ns, 3629583000ULL);
	devlog_list_free(&l);

	/* --device-date 2018-02-27: 2018-02-27T18:30:53.691033-05:00 */
	devlog_opts_init(&o);
	o.year = 2018;
	o.month = 2;
	o.day = 27;
	read_sample("page-ios-console.log", &o, &l);
	assert_int_equal(l.ev[0].ts_no_date, 0);
	assert_int_equal(l.ev[0].ts_ns, 1519689600ULL * NS + tod0);
	devlog_list_free(&l);

	/* merged with a capture begun 2018-02-27T22:00:00Z: that day in -05:00 */
	devlog_opts_init(&o);
	o.ref_ts_ns = 1519768800ULL * NS;
	read_sample("page-ios-console.log", &o, &l);
	assert_int_equal(l.ev[0].ts_no_date, 0);
	assert_int_equal(l.ev[0].ts_ns, 1519689600ULL * NS + tod0);
	devlog_list_free(&l);

	/* a capture begun 2018-02-28T04:00:00Z is 23:00 on the 27th in
	 * -05:00: the line's own offset decides the day, not UTC's */
	o.ref_ts_ns = 1519790400ULL * NS;
	read_sample("page-ios-console.log", &o, &l);
	assert_int_equal(l.ev[0].ts_ns, 1519689600ULL * NS + tod0);
	devlog_list_free(&l);

	/* a capture begun at 00:10 -05:00 on the 28th (05:10Z): a copy whose
	 * first line is 18:30 belongs to the evening before, not 18 hours
	 * later */
	o.ref_ts_ns = (1519776000ULL + 5 * 3600 + 600) * NS;
	read_sample("page-ios-console.log", &o, &l);
	assert_int_equal(l.ev[0].ts_ns, 1519689600ULL * NS + tod0);
	devlog_list_free(&l);

	/* and one begun at 08:00 -05:00 on the 28th: the same day, 10.5
	 * hours before it */
	o.ref_ts_ns = (1519776000ULL + 13 * 3600) * NS;
	read_sample("page-ios-console.log", &o, &l);
	assert_int_equal(l.ev[0].ts_ns, 1519776000ULL * NS + tod0);
	devlog_list_free(&l);
}

/* ---- device log lines published by others (tests/devlogs/real-*) ------ */

/* Microsoft's "device to NDES" page: OMADM columns two spaces apart, one
 * message after a single space, jscep's PkiMessageEncoder dump with the
 * transactionID and EnrollmentTransaction sending a CMSSignedData. */
static void test_real_android(void **state)
{
	struct devlog_list l;
	const struct devlog_event *e;

	(void)state;
	read_sample("real-android-omadm-device-to-ndes.log", NULL, &l);
	assert_int_equal(l.format, DEVLOG_ANDROID);
	assert_int_equal(l.lines, 7);
	assert_int_equal(l.unparsed_lines, 0);
	assert_int_equal(l.n, 7);
	e = &l.ev[2];
	assert_int_equal(e->kind, DEVLOG_REQUEST_SENT);
	assert_string_equal(e->op, "GetCACaps");
	assert_string_equal(e->url, "https://<server>.msappproxy.net/certsrv/mscep/mscep.dll?operation=GetCACaps&message=ca");
	assert_string_equal(e->component, "org.jscep.transport.UrlConnectionGetTransport");
	/* 2018-02-27T05:16:09.5530000 */
	assert_int_equal(e->ts_ns, 1519708569ULL * NS + 553000000);
	e = &l.ev[3];
	assert_int_equal(e->kind, DEVLOG_RESPONSE);
	assert_int_equal(e->http_status, 200);
	e = &l.ev[4];                               /* "18327     10 Encoding message: ..." */
	assert_int_equal(e->kind, DEVLOG_REQUEST_SENT);
	assert_string_equal(e->component, "org.jscep.message.PkiMessageEncoder");
	assert_string_equal(e->op, "PKIOperation");
	assert_string_equal(e->transaction_id, "251E592A777C82996C7CF96F3AAADCF996FC31FF");
	assert_int_equal(e->message_type, SCEP_MT_PKCSREQ);
	assert_string_equal(e->sender_nonce, "D447AE9955E624A56A09D64E2B3AE76E");
	assert_int_equal(l.ev[5].kind, DEVLOG_OTHER);     /* Signing pkiMessage ... */
	e = &l.ev[6];                               /* Sending org.<server>.cms.CMSSignedData@ad57775 */
	assert_int_equal(e->kind, DEVLOG_REQUEST_SENT);
	assert_string_equal(e->op, "PKIOperation");
	assert_null(e->url);
	assert_string_equal(e->component, "org.jscep.transaction.EnrollmentTransaction");
	devlog_list_free(&l);
}

/* iOS as others pasted it: Console.app with lower-case types and
 * columns four spaces apart (Microsoft), syslog with profiled's MCError
 * dump over the lines below (wso2 issue #2), the older Console device
 * view with a US date and a tab-indented dump (ios-cert-enrollment issue
 * #10), and a dump line with nothing before it (Microsoft). */
static void test_real_ios(void **state)
{
	struct devlog_list l;
	struct devlog_opts o;
	const struct devlog_event *e;

	(void)state;
	read_sample("real-ios-console-device-to-ndes.log", NULL, &l);
	assert_int_equal(l.lines, 5);
	assert_int_equal(l.unparsed_lines, 0);
	assert_int_equal(l.ignored_lines, 2);       /* Attempting to retrieve ..., Sending CSR via GET. */
	assert_int_equal(l.n, 3);
	assert_string_equal(l.ev[0].level, "debug");
	assert_string_equal(l.ev[0].op, "GetCACert");
	assert_string_equal(l.ev[1].op, "GetCACaps");
	e = &l.ev[2];
	assert_string_equal(e->op, "PKIOperation");
	assert_int_equal(e->message_cut, 1);
	assert_int_equal(strlen(e->url), strlen("https://<server>-contoso.msappproxy.net/certsrv/mscep/mscep.dll?operation=PKIOperation&message=") + 829);
	assert_int_equal(e->line_no, 5);
	assert_int_equal(l.messages_cut, 1);
	devlog_list_free(&l);

	devlog_opts_init(&o);
	o.year = 2014;
	read_sample("real-ios-syslog-nserror-22003.log", &o, &l);
	assert_int_equal(l.lines, 15);
	assert_int_equal(l.unparsed_lines, 0);
	assert_int_equal(l.ignored_lines, 4);       /* the "(Note )" lines */
	assert_int_equal(l.n, 2);
	e = &l.ev[0];
	assert_int_equal(e->kind, DEVLOG_ERROR);
	assert_int_equal(e->line_no, 5);
	assert_string_equal(e->level, "Notice");
	assert_int_equal(e->has_error_code, 1);
	assert_int_equal(e->error_code, 22003);
	assert_string_equal(e->error_domain, "MCSCEPErrorDomain");
	assert_string_equal(e->text, "(Error) MC: Cannot retrieve SCEP identity: NSError: "
				     "The Registration Authority\xe2\x80\x99s response is invalid.");
	/* Mar 17 03:07:46 of the year given */
	assert_int_equal(e->ts_ns, 1395025666ULL * NS);
	assert_int_equal(l.ev[1].error_code, 22003);
	assert_int_equal(l.ev[1].line_no, 11);
	devlog_list_free(&l);

	read_sample("real-ios-console-nserror-4001.log", NULL, &l);
	assert_int_equal(l.format, DEVLOG_IOS);
	assert_int_equal(l.lines, 14);
	assert_int_equal(l.unparsed_lines, 0);
	assert_int_equal(l.n, 1);
	e = &l.ev[0];
	assert_int_equal(e->kind, DEVLOG_ERROR);
	assert_string_equal(e->component, "profiled");
	/* 1/27/17, 3:33:18 PM, no offset: 2017-01-27T15:33:18 in the default tz */
	assert_int_equal(e->ts_ns, 1485531198ULL * NS);
	assert_int_equal(e->ts_date_assumed, 0);
	/* MCInstallationErrorDomain 4001, underlying MCSCEPErrorDomain 22013:
	 * the cause */
	assert_string_equal(e->error_domain, "MCSCEPErrorDomain");
	assert_int_equal(e->error_code, 22013);
	assert_string_equal(e->text, "(Error) MC: Installation failed. Error: NSError: Profile Installation Failed");
	devlog_list_free(&l);

	devlog_opts_init(&o);
	o.year = 2023;
	read_sample("real-ios-syslog-no-getcacaps.log", &o, &l);
	assert_int_equal(l.lines, 4);
	assert_int_equal(l.unparsed_lines, 1);      /* a dump line under no event */
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0].kind, DEVLOG_ERROR);
	assert_string_equal(l.ev[0].level, "Error");
	assert_string_equal(l.ev[0].text, "SecTrustEvaluate  [leaf AnchorTrusted]");
	assert_int_equal(l.ev[1].kind, DEVLOG_ERROR);
	assert_int_equal(l.ev[1].has_error_code, 0);
	assert_string_equal(l.ev[1].text, "(Error) MC: Cannot retrieve SCEP identity: NSError: "
					  "The Registration Authority...s response is invalid");
	devlog_list_free(&l);

	/* the same NSError run together on one line (a copy whose newlines were
	 * lost): the last domain and code, each "Key : value" */
	devlog_opts_init(&o);
	assert_int_equal(read_text("error 14:00:17.422199-0700 profiled Cannot retrieve SCEP identity: NSError: "
				   "Desc : The SCEP server returned an invalid response. US Desc: The SCEP server "
				   "returned an invalid response. Domain : MCSCEPErrorDomain Code : 22013 Type : "
				   "MCFatalError\n", &o, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ev[0].kind, DEVLOG_ERROR);
	assert_int_equal(l.ev[0].error_code, 22013);
	assert_string_equal(l.ev[0].error_domain, "MCSCEPErrorDomain");
	/* -0700: 21:00:17.422199 UTC */
	assert_int_equal(l.ev[0].ts_ns % (86400 * NS), (21 * 3600 + 17) * NS + 422199000);
	devlog_list_free(&l);
}

/* Windows: Event Viewer's XML view of an event of the same provider as
 * Microsoft's RemoteWipe article prints it (each foldable element behind
 * "- "), and the SCEP events' messages as published, in the export
 * wrapper: what each is, and which carry an error. */
static void test_real_windows(void **state)
{
	static const char wrap1[] =
		"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
		"<Provider Name='Microsoft-Windows-%s'/><EventID>%d</EventID><Level>%d</Level>"
		"<TimeCreated SystemTime='2024-08-20T16:49:44.0000000Z'/></System>"
		"<RenderingInfo Culture='en-US'><Message>%s</Message></RenderingInfo></Event>\n";
	static const struct {
		const char *provider;
		int id, level;
		const char *message;    /* as published */
		enum devlog_kind kind;
		int has_code;
		int64_t code;
	} ev[] = {
		/* Microsoft, troubleshoot-scep-certificate-profile-deployment:
		 * Level Information, 0x2ab0003 = DM_S_ACCEPTED_FOR_PROCESSING */
		{ "DeviceManagement-Enterprise-Diagnostics-Provider", 306, 4,
		  "SCEP: CspExecute for UniqueId : (ModelName_&lt;ModelName&gt;_LogicalName_&lt;LogicalName&gt;_Hash_&lt;Hash&gt;) "
		  "InstallUserSid : (&lt;UserSid&gt;) InstallLocation : (user) NodePath : (clientinstall)  KeyProtection: (0x2) "
		  "Result : (Unknown Win32 Error code: 0x2ab0003).", DEVLOG_OTHER, 0, 0 },
		/* Microsoft, troubleshoot-scep-certificate-device-to-ndes */
		{ "DeviceManagement-Enterprise-Diagnostics-Provider", 36, 4,
		  "SCEP: Certificate request generated successfully. Enhanced Key Usage: (1.3.6.1.5.5.7.3.2), NDES URL: "
		  "(https://&lt;server&gt;/certsrv/mscep/mscep.dll/pkiclient.exe), Container Name: (), KSP Setting: (0x2), "
		  "Store Location: (0x1).", DEVLOG_OTHER, 0, 0 },
		/* the Intune delivery page */
		{ "DeviceManagement-Enterprise-Diagnostics-Provider", 39, 4,
		  "SCEP: Certificate installed successfully.", DEVLOG_INSTALLED, 0, 0 },
		/* ultimate-ca-manager issue #326 */
		{ "DeviceManagement-Enterprise-Diagnostics-Provider", 32, 2,
		  "SCEP: Certificate enroll failed. Result: (Unknown Win32 Error code: 0x80072f78).", DEVLOG_ERROR, 1,
		  0x80072f78 },
		{ "DeviceManagement-Enterprise-Diagnostics-Provider", 307, 2,
		  "SCEP: Failed LogError Message : (SCEPInstallCertificateWithScepHelper:Failed to Initialize SCEP "
		  "enrollment with NDES Server 'fqdnremoved/scep/atit-ch/pkiclient.exe', CA cert thumbprint "
		  "'E8F9B56569F05F3A0CC343731EA7B45EF013F94E' and server certs ''. LogError 0x80072f7) ",
		  DEVLOG_ERROR, 1, 0x80072f7 },
		/* Okta, "SCEP certificate enroll failed Result the hash value is
		 * not correct": event 32 at Level Error */
		{ "DeviceManagement-Enterprise-Diagnostics-Provider", 32, 2,
		  "SCEP: Certificate enroll failed. Result: (The hash value is not correct.).", DEVLOG_ERROR, 0, 0 },
		/* gradenegger.eu, CertEnroll event 86 example */
		{ "CertificateServicesClient-CertEnroll", 86, 2,
		  "SCEP Certificate enrollment initialization for INTRA\\rudi via "
		  "https://ndes01.intra.adcslabor.de/certsrv/mscep/mscep.dll/pkiclient.exe failed: GetCACaps Method: "
		  "GET(47ms) Stage: GetCACaps A security error occurred 0x80072f8f (WinHttp: 12175 "
		  "ERROR_WINHTTP_SECURE_FAILURE)", DEVLOG_ERROR, 1, 0x80072f8f },
	};
	struct devlog_list l;
	struct devlog_opts o;
	size_t i;

	(void)state;
	read_sample("real-windows-event400-xmlview.xml", NULL, &l);
	assert_int_equal(l.format, DEVLOG_WINDOWS_XML);
	assert_int_equal(l.lines, 1);
	assert_int_equal(l.unparsed_lines, 0);
	assert_int_equal(l.ignored_lines, 1);       /* event 400, RemoteWipe: no SCEP */
	assert_int_equal(l.n, 0);
	devlog_list_free(&l);

	devlog_opts_init(&o);
	o.force = DEVLOG_WINDOWS_XML;
	for (i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
		char xml[2048];

		snprintf(xml, sizeof(xml), wrap1, ev[i].provider, ev[i].id, ev[i].level, ev[i].message);
		assert_int_equal(read_text(xml, &o, &l), 0);
		assert_int_equal(l.n, 1);
		assert_int_equal(l.ev[0].event_id, ev[i].id);
		assert_int_equal(l.ev[0].kind, ev[i].kind);
		assert_int_equal(l.ev[0].has_error_code, ev[i].has_code);
		if (ev[i].has_code)
			assert_int_equal(l.ev[0].error_code, ev[i].code);
		if (ev[i].id == 306)    /* the entities undone */
			assert_non_null(strstr(l.ev[0].text, "UniqueId : (ModelName_<ModelName>_LogicalName_"));
		devlog_list_free(&l);
	}
	/* an ID of one provider is not the same ID of another */
	{
		char xml[1024];

		snprintf(xml, sizeof(xml), wrap1, "DeviceManagement-Enterprise-Diagnostics-Provider", 86, 4,
			 "MDM PolicyManager: something else.");
		assert_int_equal(read_text(xml, &o, &l), 0);
		assert_int_equal(l.n, 0);
		assert_int_equal(l.ignored_lines, 1);
		devlog_list_free(&l);
	}
}

/* ---- .evtx (dissectors/devlog/devlog_evtx.c) -------------------------------- */

static uint8_t *load_devlog(const char *name, size_t *len)
{
	char *path = devlog_path(name);
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	free(path);
	*len = (size_t)n;
	return buf;
}

static void test_evtx_detect(void **state)
{
	struct devlog_list l;
	struct devlog_opts o;
	char *path, err[512];
	uint8_t *buf;
	size_t len;
	int rc;

	(void)state;
	buf = load_devlog("windows-strongswan-enroll.evtx", &len);
	assert_int_equal(devlog_detect(buf, len), DEVLOG_WINDOWS_EVTX);
	assert_int_equal(devlog_evtx_probe(buf, len), 1);
	assert_int_equal(devlog_evtx_probe(buf, 7), 0);
	assert_int_equal(devlog_evtx_probe((const uint8_t *)"ElfFile!", 8), 0);
	assert_int_equal(devlog_evtx_probe(NULL, 0), 0);
	free(buf);
	assert_int_equal(devlog_format_from_name("windows-evtx"), DEVLOG_WINDOWS_EVTX);
	assert_string_equal(devlog_format_name(DEVLOG_WINDOWS_EVTX), "windows-evtx");
	assert_string_equal(devlog_format_name(DEVLOG_WINDOWS_XML), "windows");

	/* the format forced to .evtx on XML: refused, not read as nothing */
	devlog_opts_init(&o);
	o.force = DEVLOG_WINDOWS_EVTX;
	path = devlog_path("windows-strongswan-enroll.xml");
	memset(&l, 0, sizeof(l));
	assert_int_equal(devlog_read_file_opts(path, &o, &l, err, sizeof(err)), DEVLOG_E_FORMAT);
	assert_non_null(strstr(err, "not an .evtx file"));
	assert_non_null(strstr(err, "windows-strongswan-enroll.xml: "));
	devlog_list_free(&l);
	free(path);

	/* without libevtx: refused with what to do instead, on one line */
	path = devlog_path("windows-strongswan-enroll.evtx");
	memset(&l, 0, sizeof(l));
	rc = devlog_read_file_opts(path, NULL, &l, err, sizeof(err));
	if (devlog_evtx_supported()) {
		assert_int_equal(rc, 0);
	} else {
		assert_int_equal(rc, DEVLOG_E_FORMAT);
		assert_non_null(strstr(err, "windows-strongswan-enroll.evtx: this scepdump was built without libevtx: "
					    "export the log as XML with 'wevtutil qe <log> /f:xml' or rebuild with libevtx-dev"));
		assert_null(strchr(err, '\n'));
	}
	assert_int_equal(l.format, DEVLOG_WINDOWS_EVTX);
	devlog_list_free(&l);
	free(path);
}

/* The .evtx twin of windows-strongswan-enroll.xml gives the same events;
 * line_no is the record number (EventRecordID) instead of the line. */
static void test_evtx_sample(void **state)
{
	struct devlog_list x, l;
	struct devlog_opts o;
	size_t i;

	(void)state;
	if (!devlog_evtx_supported())
		return;         /* test_evtx_detect checks the refusal */
	read_sample("windows-strongswan-enroll.xml", NULL, &x);
	read_sample("windows-strongswan-enroll.evtx", NULL, &l);
	assert_int_equal(l.format, DEVLOG_WINDOWS_EVTX);
	assert_int_equal(l.lines, 3);
	assert_int_equal(l.ignored_lines, 1);       /* event 72, not SCEP */
	assert_int_equal(l.unparsed_lines, 0);
	assert_int_equal(l.records_damaged, 0);
	assert_int_equal(l.chunks_damaged, 0);
	assert_string_equal(l.note, "");
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0].kind, DEVLOG_OTHER);
	assert_int_equal(l.ev[0].event_id, 36);
	assert_int_equal(l.ev[0].line_no, 1202);
	assert_int_equal(l.ev[1].kind, DEVLOG_INSTALLED);
	assert_int_equal(l.ev[1].event_id, 39);
	assert_int_equal(l.ev[1].line_no, 1203);
	/* libevtx writes 9 fraction digits where wevtutil writes 7 */
	assert_int_equal(l.ev[1].ts_ns, (T0 + 6) * NS + 218000000);
	assert_int_equal(l.ev[1].ts_has_offset, 1);
	assert_int_equal(x.n, l.n);
	for (i = 0; i < l.n; i++) {
		assert_int_equal(l.ev[i].kind, x.ev[i].kind);
		assert_int_equal(l.ev[i].event_id, x.ev[i].event_id);
		assert_int_equal(l.ev[i].ts_ns, x.ev[i].ts_ns);
		assert_string_equal(l.ev[i].source, x.ev[i].source);
		assert_string_equal(l.ev[i].level, x.ev[i].level);
		assert_string_equal(l.ev[i].component, x.ev[i].component);
		assert_string_equal(l.ev[i].text, x.ev[i].text);
		assert_int_equal(l.ev[i].has_error_code, x.ev[i].has_error_code);
	}
	devlog_list_free(&l);
	devlog_list_free(&x);

	/* "windows" (XML) forced on an .evtx reads it as what it is */
	devlog_opts_init(&o);
	o.force = DEVLOG_WINDOWS_XML;
	read_sample("windows-strongswan-enroll.evtx", &o, &l);
	assert_int_equal(l.format, DEVLOG_WINDOWS_EVTX);
	assert_int_equal(l.n, 2);
	devlog_list_free(&l);

	/* caps: records are the lines */
	devlog_opts_init(&o);
	o.max_lines = 1;
	read_sample("windows-strongswan-enroll.evtx", &o, &l);
	assert_int_equal(l.lines, 1);
	assert_int_equal(l.lines_capped, 2);
	assert_int_equal(l.n, 0);
	devlog_list_free(&l);
	devlog_opts_init(&o);
	o.max_events = 1;
	read_sample("windows-strongswan-enroll.evtx", &o, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.capped, 1);
	devlog_list_free(&l);
}

/* windows-strongswan-enroll-corrupt.evtx: chunk 0 whole, chunk 1 with a
 * wrong header checksum (its record 1204 still read, as libevtx does),
 * chunk 2 with record 1206 cut short (counted, not read). */
static void test_evtx_corrupt(void **state)
{
	struct devlog_list l;

	(void)state;
	if (!devlog_evtx_supported())
		return;         /* test_evtx_detect checks the refusal */
	read_sample("windows-strongswan-enroll-corrupt.evtx", NULL, &l);
	assert_int_equal(l.format, DEVLOG_WINDOWS_EVTX);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[1].event_id, 39);
	assert_int_equal(l.lines, 6);               /* 5 records libevtx read, 1 cut */
	assert_int_equal(l.ignored_lines, 3);       /* 1201, 1204, 1205: event 72 */
	assert_int_equal(l.records_damaged, 1);
	assert_int_equal(l.unparsed_lines, 1);
	assert_int_equal(l.chunks_damaged, 1);
	assert_string_equal(l.note, "1 damaged chunk, 1 unreadable record; first: chunk 1 (file offset 0x11000): "
				    "chunk header checksum mismatch (its records are read as libevtx finds them)");
	devlog_list_free(&l);
}

/* Cut and bit-flipped copies: an error or a partial read, never a crash
 * (the sanitizer build checks the memory side). */
static void test_evtx_hostile(void **state)
{
	static const size_t cuts[] = { 8, 100, 127, 128, 4096, 4096 + 200, 4096 + 512, 4096 + 600,
				       4096 + 0x8e0, 4096 + 65535 };
	struct devlog_list l;
	char err[512];
	uint8_t *buf, *copy;
	size_t len, i;
	int rc;

	(void)state;
	if (!devlog_evtx_supported())
		return;         /* test_evtx_detect checks the refusal */
	buf = load_devlog("windows-strongswan-enroll.evtx", &len);
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		copy = malloc(cuts[i]);
		assert_non_null(copy);
		memcpy(copy, buf, cuts[i]);
		memset(&l, 0, sizeof(l));
		err[0] = '\0';
		rc = devlog_read_buf(copy, cuts[i], NULL, &l, err, sizeof(err));
		assert_true(rc == 0 || rc == DEVLOG_E_FORMAT);
		if (rc == DEVLOG_E_FORMAT) {
			assert_non_null(strstr(err, "not a readable .evtx file"));
			assert_null(strchr(err, '\n'));
		} else {
			/* a whole file header, the chunk missing or cut */
			assert_true(l.chunks_damaged >= 1);
			assert_non_null(strstr(l.note, "chunk 0 (file offset 0x1000): chunk cut short"));
		}
		assert_true(l.n <= 2);
		devlog_list_free(&l);
		free(copy);
	}
	/* one bit flipped in turn across the headers and the first record */
	copy = malloc(len);
	assert_non_null(copy);
	for (i = 0; i < 4096 + 0x900; i += i < 128 || (i >= 4096 && i < 4096 + 0x300) ? 3 : 61) {
		memcpy(copy, buf, len);
		copy[i] ^= 0x10;
		memset(&l, 0, sizeof(l));
		rc = devlog_read_buf(copy, len, NULL, &l, err, sizeof(err));
		assert_true(rc == 0 || rc == DEVLOG_E_FORMAT);
		assert_true(l.n <= 2);
		/* a flipped byte the walk checks is named: a checksum covers it */
		if (rc == 0 && i >= 4096 && i < 4096 + 0x8e7 && (i < 4096 + 120 || i >= 4096 + 128))
			assert_true(l.chunks_damaged + l.records_damaged >= 1);
		devlog_list_free(&l);
	}
	free(copy);
	free(buf);
}

/* Curly quotes as characters (U+201C/U+201D are e2 80 9c / e2 80 9d in
 * UTF-8, Unicode's code charts): raw, as syslog's vis(3) writes them
 * ("\M-b\M-^@\M-^\"), as an NSString escape ("\u201d"); controls, broken
 * UTF-8 and a bidi override stay escaped. */
static char *strdup_of(const char *text)
{
	struct rd r;

	rd_init(&r, text, strlen(text));
	return devlog_strdup(&r, 1000);
}

static void test_strdup_unicode(void **state)
{
	char *s;

	(void)state;
	s = strdup_of("NSError: \xe2\x80\x9cSCEP\xe2\x80\x9d");
	assert_string_equal(s, "NSError: \xe2\x80\x9cSCEP\xe2\x80\x9d");
	free(s);
	s = strdup_of("The \\M-b\\M-^@\\M-^\\CA\\M-b\\M-^@\\M-^]");
	assert_string_equal(s, "The \xe2\x80\x9c" "CA\xe2\x80\x9d");
	free(s);
	s = strdup_of("\\u201cCA\\u201D");
	assert_string_equal(s, "\xe2\x80\x9c" "CA\xe2\x80\x9d");
	free(s);
	s = strdup_of("a\x1b[31m \xe2\x80 \xc0\xaf \xe2\x80\xae x\\y");
	assert_string_equal(s, "a\\x1b[31m \\xe2\\x80 \\xc0\\xaf \\xe2\\x80\\xae x\\x5cy");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_android_sample),
		cmocka_unit_test(test_android_failure),
		cmocka_unit_test(test_android_seed_lines),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_ios_sample),
		cmocka_unit_test(test_ios_cut),
		cmocka_unit_test(test_ios_errors),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_windows_malformed),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_page_android_excerpt),
		cmocka_unit_test(test_page_ios_excerpt),
		cmocka_unit_test(test_real_android),
		cmocka_unit_test(test_real_ios),
		cmocka_unit_test(test_real_windows),
		cmocka_unit_test(test_evtx_detect),
		cmocka_unit_test(test_evtx_sample),
		cmocka_unit_test(test_evtx_corrupt),
		cmocka_unit_test(test_evtx_hostile),
		cmocka_unit_test(test_strdup_unicode),
	};

	return cmocka_run_group_tests_name("devlog", tests, NULL, NULL);
}
