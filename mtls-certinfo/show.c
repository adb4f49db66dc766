#include <stdio.h>
#include <string.h>

#include "json.h"
#include "textesc.h"
#include "show.h"

/*
 * Text from a certificate, with control characters (C0, DEL, C1 even in
 * UTF-8) and bytes that are not UTF-8 shown as \xHH: a
 * subject must not be able to drive the terminal it is printed on.
 */
static void
safe(FILE *out, const char *s)
{
	char	 buf[4096];

	fputs(textesc(buf, sizeof(buf), s), out);
}

static void
field(FILE *out, const char *label, const char *val)
{
	fprintf(out, "  %-20s", label);
	safe(out, val);
	fputc('\n', out);
}

static void
list_text(FILE *out, const char *label, const struct strlist *l,
    const char *prefix)
{
	int	 i;

	if (l->n == 0)
		return;
	fprintf(out, "  %-20s", label);
	for (i = 0; i < l->n; i++) {
		fprintf(out, "%s%s", i ? ", " : "", prefix);
		safe(out, l->v[i]);
	}
	fputc('\n', out);
}

static void
validity_text(FILE *out, const struct facts *f)
{
	fprintf(out, "  %-20s%s\n", "Not before:", f->id.not_before_s);
	fprintf(out, "  %-20s%s", "Not after:", f->id.not_after_s);
	if (f->expired)
		fprintf(out, " (EXPIRED %ld days ago)\n", -f->days_left);
	else if (f->not_yet_valid)
		fprintf(out, " (not yet valid)\n");
	else
		fprintf(out, " (%ld days left)\n", f->days_left);
}

static void
cert_text(FILE *out, const struct report *r, unsigned int i)
{
	const struct facts *f = &r->facts[i];

	fprintf(out, "Certificate #%u (%s)%s\n", i, r->certs->source[i],
	    f->self_signed ? " self-signed" : "");
	field(out, "Subject:", f->id.subject);
	field(out, "Issuer:", f->id.issuer);
	fprintf(out, "  %-20s%s\n", "Serial:", f->id.serial);
	validity_text(out, f);
	fprintf(out, "  %-20s%s %u bits%s%s\n", "Public key:",
	    f->pk_algorithm, f->pk_bits, *f->pk_curve ? ", curve " : "",
	    f->pk_curve);
	fprintf(out, "  %-20s%s\n", "Signature:", f->sig_algorithm);
	list_text(out, "DNS names:", &f->san_dns, "");
	list_text(out, "IP addresses:", &f->san_ip, "");
	list_text(out, "Emails:", &f->san_email, "");
	list_text(out, "URIs:", &f->san_uri, "");
	list_text(out, "Key usage:", &f->key_usage, "");
	list_text(out, "Ext. key usage:", &f->ext_key_usage, "");
	if (f->has_basic_constraints) {
		fprintf(out, "  %-20sCA:%s", "Basic constraints:",
		    f->is_ca ? "TRUE" : "FALSE");
		if (f->is_ca && f->path_len >= 0)
			fprintf(out, ", pathlen:%d", f->path_len);
		fputc('\n', out);
	}
	if (*f->ski)
		fprintf(out, "  %-20s%s\n", "Subject key ID:", f->ski);
	if (*f->aki)
		fprintf(out, "  %-20s%s\n", "Authority key ID:", f->aki);
	fprintf(out, "  %-20s%s\n", "SHA-256:", f->id.sha256);
	fprintf(out, "  %-20s%s\n", "SHA-1:", f->sha1);
	fprintf(out, "  %-20ssha256//%s\n", "SPKI pin:", f->spki_sha256_b64);
	if (r->pins) {
		fprintf(out, "  %-20spin-sha256=\"%s\"\n", "HPKP pin:",
		    f->spki_sha256_b64);
		fprintf(out, "  %-20s3 1 1 %s\n", "DANE TLSA:",
		    f->spki_sha256_hex);
	}
}

/* Our issuer against the server's list: by name, then by key. */
static const char *
issuer_verdict(const struct probe *p)
{
	switch (p->client_issuer_accepted) {
	case 1:
		return p->issuer_key_ok == 1 ? "accepted (name and key)" :
		    p->verdict_known && *p->refusal_alert == '\0' ?
		    "accepted (name; the server admitted us)" :
		    "accepted by name (key not checked)";
	case PROBE_SAME_NAME_OTHER_KEY:
		return "same name, different key";
	case 0:
		return "NOT among them";
	}
	return "not named (any may do)";
}

static void
probe_text(FILE *out, const struct probe *p)
{
	unsigned int i;

	fprintf(out, "Connection to %s\n", p->peer);
	if (p->handshake_ok)
		fprintf(out, "  %-20s%s, %s, group %s\n", "Negotiated:",
		    p->version, p->cipher, p->group);
	else
		fprintf(out, "  %-20s%s\n", "Handshake failed:", p->error);
	if (!p->req.asked) {
		fprintf(out, "  %-20s%s\n", "Client cert:",
		    "not requested by the server");
		return;
	}
	fprintf(out, "  %-20s%s\n", "Client cert:", "requested by the server");
	if (p->req.nissuers == 0)
		fprintf(out, "  %-20s%s\n", "Accepted issuers:",
		    "any (the server named none)");
	for (i = 0; i < p->req.nissuers; i++)
		field(out, i ? "" : "Accepted issuers:", p->req.issuers[i]);
	if (*p->req.sigalgs)
		fprintf(out, "  %-20s%s\n", "Signature algs:", p->req.sigalgs);
	if (p->have_client_cert) {
		fprintf(out, "  %-20s%s (\"%s\")\n", "Our issuer:",
		    issuer_verdict(p), p->client_issuer);
		if (p->verdict_known)
			fprintf(out, "  %-20s%s%s\n", "Server's verdict:",
			    *p->refusal_alert ? "refused our certificate, "
			    "alert " : "admitted our certificate",
			    p->refusal_alert);
	} else
		fprintf(out, "  %-20s%s\n", "Our certificate:",
		    "none given (-c/-k)");
}

void
show_text(FILE *out, const struct report *r)
{
	unsigned int i;
	int	 k;

	if (r->probe != NULL) {
		probe_text(out, r->probe);
		fputc('\n', out);
	}
	for (i = 0; i < r->certs->n; i++) {
		cert_text(out, r, i);
		fputc('\n', out);
	}
	for (k = 0; k < r->chain.n; k++) {
		fputs("Chain: ", out);
		safe(out, r->chain.d[k].msg);
		fputc('\n', out);
	}
	if (r->verdict.done) {
		fprintf(out, "Verification: %s", r->verdict.ok ? "OK" :
		    "FAILED");
		if (!r->verdict.ok)
			fprintf(out, ": %s", r->verdict.reasons);
		if (r->verdict.servername)
			fprintf(out, " (name %s)", r->verdict.servername);
		if (r->verdict.purpose)
			fprintf(out, " (purpose %s)", r->verdict.purpose);
		fputc('\n', out);
	}
	if (r->expires_within >= 0)
		fprintf(out, "Expiry: %d certificate%s expire%s within %ld "
		    "days\n", r->expiring, r->expiring == 1 ? "" : "s",
		    r->expiring == 1 ? "s" : "", r->expires_within);
}

static void
list_json(struct json *j, const char *key, const struct strlist *l)
{
	int	 i;

	json_begin_array(j, key);
	for (i = 0; i < l->n; i++)
		json_str(j, NULL, l->v[i]);
	json_end_array(j);
}

static void
cert_json(struct json *j, const struct report *r, unsigned int i)
{
	const struct facts *f = &r->facts[i];
	char	 pin[96];

	json_begin_object(j, NULL);
	json_int(j, "index", i);
	json_str(j, "source", r->certs->source[i]);
	json_str(j, "subject", f->id.subject);
	json_str(j, "issuer", f->id.issuer);
	json_str(j, "serial", f->id.serial);
	json_str(j, "not_before", f->id.not_before_s);
	json_str(j, "not_after", f->id.not_after_s);
	json_int(j, "days_left", f->days_left);
	json_bool(j, "expired", f->expired);
	json_bool(j, "not_yet_valid", f->not_yet_valid);
	json_bool(j, "self_signed", f->self_signed);
	json_begin_object(j, "public_key");
	json_str(j, "algorithm", f->pk_algorithm);
	json_int(j, "bits", f->pk_bits);
	json_str_or_null(j, "curve", f->pk_curve);
	json_end_object(j);
	json_str(j, "signature_algorithm", f->sig_algorithm);
	json_begin_object(j, "san");
	list_json(j, "dns", &f->san_dns);
	list_json(j, "ip", &f->san_ip);
	list_json(j, "email", &f->san_email);
	list_json(j, "uri", &f->san_uri);
	json_end_object(j);
	list_json(j, "key_usage", &f->key_usage);
	list_json(j, "extended_key_usage", &f->ext_key_usage);
	if (f->has_basic_constraints) {
		json_begin_object(j, "basic_constraints");
		json_bool(j, "ca", f->is_ca);
		if (f->is_ca && f->path_len >= 0)
			json_int(j, "path_len", f->path_len);
		else
			json_null(j, "path_len");
		json_end_object(j);
	} else
		json_null(j, "basic_constraints");
	json_str_or_null(j, "subject_key_id", f->ski);
	json_str_or_null(j, "authority_key_id", f->aki);
	json_str(j, "sha256", f->id.sha256);
	json_str(j, "sha1", f->sha1);
	json_begin_object(j, "spki_sha256");
	snprintf(pin, sizeof(pin), "sha256//%s", f->spki_sha256_b64);
	json_str(j, "pin", pin);
	json_str(j, "base64", f->spki_sha256_b64);
	json_str(j, "hex", f->spki_sha256_hex);
	snprintf(pin, sizeof(pin), "pin-sha256=\"%s\"", f->spki_sha256_b64);
	json_str(j, "hpkp", pin);
	snprintf(pin, sizeof(pin), "3 1 1 %s", f->spki_sha256_hex);
	json_str(j, "dane", pin);
	json_end_object(j);
	json_end_object(j);
}

static void
probe_json(struct json *j, const struct probe *p)
{
	unsigned int i;

	json_begin_object(j, "connection");
	json_str(j, "peer", p->peer);
	json_bool(j, "handshake_ok", p->handshake_ok);
	json_str_or_null(j, "error", p->error);
	json_str_or_null(j, "version", p->version);
	json_str_or_null(j, "cipher", p->cipher);
	json_str_or_null(j, "group", p->group);
	json_begin_object(j, "certificate_request");
	json_bool(j, "asked", p->req.asked);
	json_begin_array(j, "issuers");
	for (i = 0; i < p->req.nissuers; i++)
		json_str(j, NULL, p->req.issuers[i]);
	json_end_array(j);
	json_str_or_null(j, "signature_algorithms", p->req.sigalgs);
	if (p->have_client_cert && p->client_issuer_accepted >= 0)
		json_bool(j, "client_issuer_accepted",
		    p->client_issuer_accepted == 1);
	else
		json_null(j, "client_issuer_accepted");
	if (p->have_client_cert && p->client_issuer_accepted >= 0)
		json_bool(j, "client_issuer_same_name_other_key",
		    p->client_issuer_accepted == PROBE_SAME_NAME_OTHER_KEY);
	else
		json_null(j, "client_issuer_same_name_other_key");
	if (p->verdict_known)
		json_str_or_null(j, "server_refusal_alert",
		    *p->refusal_alert ? p->refusal_alert : NULL);
	json_end_object(j);
	json_end_object(j);
}

void
show_json(FILE *out, const struct report *r)
{
	struct json j;
	unsigned int i;
	int	 k;

	json_init(&j, out);
	json_begin_object(&j, NULL);
	if (r->probe != NULL)
		probe_json(&j, r->probe);
	else
		json_null(&j, "connection");
	json_begin_array(&j, "certificates");
	for (i = 0; i < r->certs->n; i++)
		cert_json(&j, r, i);
	json_end_array(&j);
	json_begin_array(&j, "chain_problems");
	for (k = 0; k < r->chain.n; k++) {
		json_begin_object(&j, NULL);
		json_str(&j, "code", r->chain.d[k].code);
		json_str(&j, "message", r->chain.d[k].msg);
		json_end_object(&j);
	}
	json_end_array(&j);
	if (r->verdict.done) {
		json_begin_object(&j, "verification");
		json_bool(&j, "ok", r->verdict.ok);
		json_str(&j, "reasons", r->verdict.ok ? "" :
		    r->verdict.reasons);
		json_str_or_null(&j, "servername", r->verdict.servername);
		json_str_or_null(&j, "purpose", r->verdict.purpose);
		json_int(&j, "crls", r->verdict.crls);
		json_end_object(&j);
	} else
		json_null(&j, "verification");
	if (r->expires_within >= 0) {
		json_begin_object(&j, "expiry");
		json_int(&j, "within_days", r->expires_within);
		json_int(&j, "expiring", r->expiring);
		json_end_object(&j);
	} else
		json_null(&j, "expiry");
	json_end_object(&j);
}
