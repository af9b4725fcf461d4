/* channel.c: the authenticated encrypted channel (channel.h): node identities and key
 * files, the handshake, and AEAD records (AES-256-GCM, or XChaCha20-Poly1305). */
#include "engine/io/channel.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/assert.h"
#include "base/bytes.h"
#include "base/names.h"
#include "engine/io/frame.h"
#include "hawser_error.h"

#define MAC_BYTES     crypto_auth_BYTES
#define TH_BYTES      64u /* transcript hash and master secret: BLAKE2b-512 */
#define BIND_BYTES    32u
#define AD_BYTES      (HW_CHANNEL_RECORD_HEADER_BYTES + BIND_BYTES)
#define IV_BYTES      32u /* nonce base; the first 12 (AES) or 24 (XChaCha) bytes are used */
#define HELLO_VERSION 2u
#define HELLO_AES     0x01u /* hello byte 6: the sender can run AES-256-GCM */
#define KEY_FILE_MAX  4096

/* Record types (byte 12 of the header). */
#define TYPE_MESSAGE 1u
#define TYPE_REKEY   2u /* this record is the last under the current key */
#define TYPE_FINAL   3u /* empty; ends the direction cleanly */

static const char rekey_label[] = "hawser channel v2 rekey";

_Static_assert(HW_CHANNEL_ABYTES == crypto_aead_aes256gcm_ABYTES, "aes tag");
_Static_assert(HW_CHANNEL_ABYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES, "xchacha tag");
_Static_assert(crypto_aead_aes256gcm_NPUBBYTES >= 8u && crypto_aead_aes256gcm_NPUBBYTES <= IV_BYTES,
	       "aes nonce holds the sequence number");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES <= IV_BYTES, "xchacha nonce");
_Static_assert(crypto_aead_aes256gcm_KEYBYTES == 32u, "aes key");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == 32u, "xchacha key");
/* struct dir holds a crypto_aead_aes256gcm_state, which must be 16-byte aligned: calloc's. */
_Static_assert(_Alignof(crypto_aead_aes256gcm_state) <= _Alignof(max_align_t), "gcm alignment");
_Static_assert(HW_CHANNEL_KEY_BYTES == crypto_scalarmult_BYTES, "x25519");
_Static_assert(HW_CHANNEL_KEY_BYTES == crypto_scalarmult_SCALARBYTES, "x25519");
_Static_assert(HW_CHANNEL_SIGN_PK_BYTES == crypto_sign_PUBLICKEYBYTES, "ed25519");
_Static_assert(HW_CHANNEL_SIGN_SK_BYTES == crypto_sign_SECRETKEYBYTES, "ed25519");
_Static_assert(HW_CHANNEL_FINISH_BYTES == MAC_BYTES, "finish layout");
_Static_assert(HW_CHANNEL_HELLO_BYTES == 8u + 4u * 32u, "hello layout");
_Static_assert(crypto_auth_KEYBYTES == 32u, "mac key");

static const uint8_t hello_magic[4] = {'H', 'W', 'C', 'H'};
static const char th_label[] = "hawser channel v2 transcript";

enum hs_state {
	HS_SEND_HELLO,  /* I: hello_I not sent yet */
	HS_WAIT_REPLY,  /* I: waiting for hello_R | finish_R */
	HS_SEND_FINISH, /* I: finish_I to send */
	HS_WAIT_HELLO,  /* R: waiting for hello_I */
	HS_SEND_REPLY,  /* R: hello_R | finish_R to send */
	HS_WAIT_FINISH, /* R: waiting for finish_I */
	HS_OPEN,
};

/* Record ciphers (channel.h): chosen by the handshake, the same for both directions. */
enum cipher {
	CIPHER_NONE,
	CIPHER_AES256GCM,         /* both sides have AES-NI */
	CIPHER_XCHACHA20POLY1305, /* the fallback */
};

/* One direction of the channel. */
struct dir {
	crypto_aead_aes256gcm_state gcm; /* AES-256-GCM: key's expanded schedule */
	uint8_t key[32];                 /* record key, ratcheted forward at every TYPE_REKEY */
	uint8_t iv[IV_BYTES]; /* nonce = iv with the sequence number XORed into its end */
	uint8_t mac_key[32];  /* finish MAC key, zeroed when the handshake ends */
	uint8_t bind[BIND_BYTES];
	uint64_t seq;
	uint64_t since_rekey; /* out: plaintext bytes since the last TYPE_REKEY */
	bool final;           /* out: TYPE_FINAL sealed; in: TYPE_FINAL opened */
};

struct hw_channel {
	enum hw_channel_role role;
	bool insecure;
	bool aes; /* this side offers AES-256-GCM */
	bool have_peer, have_offered;
	enum cipher cipher;
	enum hs_state hs;
	int err; /* sticky */
	uint64_t rekey_bytes;
	uint32_t open_max; /* the largest record plaintext opened (hw_channel_config) */
	hw_channel_random_cb *random_cb;
	void *random_arg;
	uint8_t cluster[HW_CHANNEL_CLUSTER_BYTES];
	struct hw_identity self; /* wiped once the session keys are derived */
	uint8_t pinned[HW_CHANNEL_PINNED_MAX][HW_CHANNEL_KEY_BYTES];
	size_t pinned_count;
	uint8_t e_pk[32], e_sk[32]; /* ephemeral; e_sk wiped after derivation */
	uint8_t hello_self[HW_CHANNEL_HELLO_BYTES];
	uint8_t hello_peer[HW_CHANNEL_HELLO_BYTES];
	uint8_t peer_s[32], peer_e[32];
	uint8_t offered[32]; /* the static key the peer's hello claimed, pinned or not */
	uint8_t th[TH_BYTES];
	uint8_t sid[HW_CHANNEL_SESSION_ID_BYTES];
	struct dir tx, rx;
	struct hw_channel_stats st;
};

/* ---- small helpers */

static void random_default(void *arg, uint8_t *buf, size_t len)
{
	(void)arg;
	randombytes_buf(buf, len);
}

/* Wipe every secret the channel holds. */
static void wipe_secrets(struct hw_channel *ch)
{
	hw_identity_wipe(&ch->self);
	sodium_memzero(ch->e_sk, sizeof ch->e_sk);
	sodium_memzero(&ch->tx, sizeof ch->tx);
	sodium_memzero(&ch->rx, sizeof ch->rx);
}

/* Kill the channel: the first error sticks, the keys go. Returns the sticky code. */
static int die(struct hw_channel *ch, int code)
{
	if (ch->err == 0) {
		ch->err = code;
		wipe_secrets(ch);
	}
	return ch->err;
}

/* Hex digit value, or -1. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 64 hex digits at s[0..n) into out[32]. Returns 0 or -1. */
static int hex32(const char *s, size_t n, uint8_t out[32])
{
	if (n != 64)
		return -1;
	for (size_t i = 0; i < 32; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void tohex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- identities and key files */

int hw_identity_generate(struct hw_identity *id)
{
	if (sodium_init() < 0)
		return HW_ENOMEM;
	randombytes_buf(id->kx_sk, sizeof id->kx_sk);
	if (crypto_scalarmult_base(id->kx_pk, id->kx_sk) != 0)
		return HW_ENOMEM; /* cannot happen for a clamped scalar */
	crypto_sign_keypair(id->sign_pk, id->sign_sk);
	return 0;
}

static long format_pair(char *buf, size_t cap, const char *head, const uint8_t *kx,
			const uint8_t *sign)
{
	char a[65], b[65];
	tohex(kx, 32, a);
	tohex(sign, 32, b);
	size_t n = strlen(head) + 3 + 64 + 1 + 5 + 64 + 1;
	if (cap < n + 1)
		return -ENOBUFS;
	memcpy(buf, head, strlen(head));
	size_t off = strlen(head);
	memcpy(buf + off, "kx ", 3);
	memcpy(buf + off + 3, a, 64);
	memcpy(buf + off + 67, "\nsign ", 6);
	memcpy(buf + off + 73, b, 64);
	buf[off + 137] = '\n';
	buf[off + 138] = '\0';
	sodium_memzero(a, sizeof a);
	sodium_memzero(b, sizeof b);
	return (long)(off + 138);
}

long hw_identity_format_secret(const struct hw_identity *id, char *buf, size_t cap)
{
	/* The Ed25519 secret key is seed | public key: the seed is enough to rebuild it. */
	return format_pair(
		buf, cap,
		"# hawser node identity: SECRET. Mode 0600; never copy it off this node.\n"
		"hawser-node-key v1\n",
		id->kx_sk, id->sign_sk);
}

long hw_identity_format_public(const struct hw_identity *id, char *buf, size_t cap)
{
	return format_pair(buf, cap,
			   "# hawser node public keys: pin the kx key in every peer's config.\n"
			   "hawser-node-pub v1\n",
			   id->kx_pk, id->sign_pk);
}

/* One "word HEX" line of a key file into out; returns 0 or -1. */
static int key_line(const char *line, size_t n, const char *word, uint8_t out[32])
{
	size_t w = strlen(word);
	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
		n--;
	if (n < w + 1 || memcmp(line, word, w) != 0 || line[w] != ' ')
		return -1;
	return hex32(line + w + 1, n - w - 1, out);
}

int hw_identity_parse(const char *text, size_t len, struct hw_identity *id)
{
	uint8_t seed[32];
	bool head = false, kx = false, sign = false;
	int rc = HW_ECONFIG;
	size_t pos = 0;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl ? 1 : 0);
		if (n == 0 || line[0] == '#')
			continue;
		if (!head) {
			if (n < 18 || memcmp(line, "hawser-node-key v1", 18) != 0)
				goto out;
			head = true;
		} else if (!kx && key_line(line, n, "kx", id->kx_sk) == 0) {
			kx = true;
		} else if (!sign && key_line(line, n, "sign", seed) == 0) {
			sign = true;
		} else {
			goto out;
		}
	}
	if (!head || !kx || !sign || sodium_init() < 0)
		goto out;
	if (crypto_scalarmult_base(id->kx_pk, id->kx_sk) != 0 ||
	    crypto_sign_seed_keypair(id->sign_pk, id->sign_sk, seed) != 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(seed, sizeof seed);
	if (rc)
		hw_identity_wipe(id);
	return rc;
}

int hw_identity_load(const char *path, struct hw_identity *id)
{
	char buf[KEY_FILE_MAX + 1];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = fstat(fd, &st) != 0 ? -errno : 0;
	if (rc == 0 && (!S_ISREG(st.st_mode) || (st.st_mode & 077) || st.st_size > KEY_FILE_MAX))
		rc = HW_ECONFIG;
	size_t got = 0;
	while (rc == 0) {
		ssize_t n = read(fd, buf + got, sizeof buf - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = -errno;
		else if (n == 0)
			break;
		else if ((got += (size_t)n) > KEY_FILE_MAX)
			rc = HW_ECONFIG; /* grew after fstat */
	}
	close(fd);
	if (rc == 0)
		rc = hw_identity_parse(buf, got, id);
	sodium_memzero(buf, sizeof buf);
	return rc;
}

int hw_channel_key_load(const char *path, uint8_t key[HW_CHANNEL_KEY_BYTES])
{
	char buf[KEY_FILE_MAX + 1];
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	size_t got = fread(buf, 1, sizeof buf, f);
	fclose(f);
	if (got > KEY_FILE_MAX)
		return HW_ECONFIG;
	/* The head line first, so a node.key (its kx line is the secret) is never pinned. */
	int rc = HW_ECONFIG;
	bool head = false;
	for (size_t at = 0; at < got && rc != 0;) {
		char *nl = memchr(buf + at, '\n', got - at);
		size_t end = nl != NULL ? (size_t)(nl - buf) : got;
		buf[end] = '\0';
		if (buf[at] == '#' || buf[at] == '\0')
			; /* comment or blank */
		else if (!head && strcmp(buf + at, "hawser-node-pub v1") != 0)
			break;
		else if (!head)
			head = true;
		else if (strncmp(buf + at, "kx ", 3) == 0)
			rc = hw_channel_key_parse(buf + at, key);
		at = end + 1;
	}
	return rc;
}

/* Pin the node.pub file at path (named by file) as key *n: one key pinned twice under one
 * name (a file listed twice, or also in a listed directory) pins nothing more. */
static int pin_file(const char *path, const char *file, uint8_t (*keys)[HW_CHANNEL_KEY_BYTES],
		    char (*names)[HW_CHANNEL_PIN_NAME_BYTES], size_t cap, size_t *n)
{
	uint8_t key[HW_CHANNEL_KEY_BYTES];
	char name[HW_CHANNEL_PIN_NAME_BYTES];
	int rc = hw_channel_key_load(path, key);
	if (rc != 0)
		return rc;
	snprintf(name, sizeof name, "%.*s", (int)strcspn(file, "."), file);
	for (size_t i = 0; i < *n; i++)
		if (memcmp(keys[i], key, sizeof key) == 0 &&
		    (names == NULL || strcmp(names[i], name) == 0))
			return 0;
	if (*n == cap)
		return -E2BIG;
	memcpy(keys[*n], key, sizeof key);
	if (names != NULL)
		memcpy(names[*n], name, sizeof name);
	(*n)++;
	return 0;
}

int hw_channel_pins_load(const char *path, uint8_t (*keys)[HW_CHANNEL_KEY_BYTES],
			 char (*names)[HW_CHANNEL_PIN_NAME_BYTES], size_t cap, size_t *n)
{
	DIR *d = opendir(path);
	if (d == NULL && errno != ENOTDIR)
		return -errno;
	if (d == NULL) {
		const char *slash = strrchr(path, '/');
		return pin_file(path, slash != NULL ? slash + 1 : path, keys, names, cap, n);
	}
	int rc = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d)) != NULL;) {
		size_t len = strlen(e->d_name);
		char file[PATH_MAX];
		if (len < 5 || strcmp(e->d_name + len - 4, ".pub") != 0)
			continue;
		if ((size_t)snprintf(file, sizeof file, "%s/%s", path, e->d_name) >= sizeof file)
			rc = -ENAMETOOLONG;
		else
			rc = pin_file(file, e->d_name, keys, names, cap, n);
	}
	closedir(d);
	return rc;
}

int hw_channel_pins_parse(const char *list, uint8_t (*keys)[HW_CHANNEL_KEY_BYTES],
			  char (*names)[HW_CHANNEL_PIN_NAME_BYTES], size_t cap, size_t *n,
			  char *bad, size_t bad_cap)
{
	*n = 0;
	for (const char *p = list; p != NULL;) {
		char item[PATH_MAX];
		size_t len;
		const char *at = hw_list_item(&p, &len);
		snprintf(bad, bad_cap, "%.*s", (int)len, at);
		if (len == 0)
			return -ENOENT;
		if (len >= sizeof item)
			return -ENAMETOOLONG;
		memcpy(item, at, len);
		item[len] = '\0';
		int rc = hw_channel_pins_load(item, keys, names, cap, n);
		if (rc)
			return rc;
	}
	return *n > 0 ? 0 : -ENOKEY;
}

const char *hw_channel_pins_strerror(int rc)
{
	if (rc == HW_ECONFIG)
		return "not a node.pub of hawser keygen (hawser-node-pub v1 and a kx line)";
	if (rc == -ENOKEY)
		return "no node.pub in it (a directory's keys are its *.pub files)";
	return rc == -E2BIG ? "more keys than a node pins" : hw_strerror(rc);
}

bool hw_channel_pinned_as(const uint8_t (*keys)[HW_CHANNEL_KEY_BYTES],
			  const char (*names)[HW_CHANNEL_PIN_NAME_BYTES], size_t n,
			  const uint8_t *key, const char *id)
{
	for (size_t i = 0; key != NULL && i < n; i++)
		if (memcmp(keys[i], key, HW_CHANNEL_KEY_BYTES) == 0 && strcmp(names[i], id) == 0)
			return true;
	return false;
}

void hw_identity_wipe(struct hw_identity *id)
{
	sodium_memzero(id->kx_sk, sizeof id->kx_sk);
	sodium_memzero(id->sign_sk, sizeof id->sign_sk);
}

int hw_channel_key_parse(const char *text, uint8_t key[HW_CHANNEL_KEY_BYTES])
{
	const char *p = text;
	while (*p == ' ' || *p == '\t')
		p++;
	if (p[0] == 'k' && p[1] == 'x' && (p[2] == ' ' || p[2] == '\t')) {
		p += 2;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	size_t n = strlen(p);
	while (n > 0 &&
	       (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	return hex32(p, n, key) == 0 ? 0 : HW_ECONFIG;
}

/* ---- the channel: set-up */

static void hello_build(struct hw_channel *ch)
{
	uint8_t *h = ch->hello_self;
	memcpy(h, hello_magic, 4);
	h[4] = HELLO_VERSION;
	h[5] = (uint8_t)ch->role;
	h[6] = ch->aes ? HELLO_AES : 0;
	h[7] = 0;
	memcpy(h + 8, ch->cluster, 32);
	memcpy(h + 40, ch->self.kx_pk, 32);
	memcpy(h + 72, ch->e_pk, 32);
	ch->random_cb(ch->random_arg, h + 104, 32);
}

static int config_check(const struct hw_channel_config *cfg)
{
	if (cfg->role != HW_CHANNEL_INITIATOR && cfg->role != HW_CHANNEL_RESPONDER)
		return HW_ECONFIG;
	if (cfg->insecure)
		return 0;
	if (cfg->open_max > HW_CHANNEL_PLAINTEXT_MAX)
		return HW_ECONFIG;
	if (!cfg->cluster_id || cfg->cluster_id[0] == '\0' ||
	    strlen(cfg->cluster_id) > HW_CHANNEL_CLUSTER_BYTES)
		return HW_ECONFIG;
	if (!cfg->self || !cfg->pinned || cfg->pinned_count == 0 ||
	    cfg->pinned_count > HW_CHANNEL_PINNED_MAX)
		return HW_ECONFIG;
	return 0;
}

int hw_channel_new(const struct hw_channel_config *cfg, struct hw_channel **out)
{
	*out = NULL;
	int rc = config_check(cfg);
	if (rc)
		return rc;
	if (sodium_init() < 0)
		return HW_ENOMEM;
	struct hw_channel *ch = calloc(1, sizeof(*ch));
	if (!ch)
		return HW_ENOMEM;
	ch->role = cfg->role;
	ch->insecure = cfg->insecure;
	*out = ch;
	if (ch->insecure) {
		ch->hs = HS_OPEN;
		return 0;
	}
	ch->aes = !cfg->aes_off && crypto_aead_aes256gcm_is_available();
	ch->rekey_bytes = cfg->rekey_bytes ? cfg->rekey_bytes : HW_CHANNEL_REKEY_BYTES_DEFAULT;
	ch->open_max = cfg->open_max ? cfg->open_max : HW_CHANNEL_PLAINTEXT_MAX;
	ch->random_cb = cfg->random_cb ? cfg->random_cb : random_default;
	ch->random_arg = cfg->random_arg;
	memcpy(ch->cluster, cfg->cluster_id, strlen(cfg->cluster_id));
	ch->self = *cfg->self;
	memcpy(ch->pinned, cfg->pinned, cfg->pinned_count * HW_CHANNEL_KEY_BYTES);
	ch->pinned_count = cfg->pinned_count;
	ch->random_cb(ch->random_arg, ch->e_sk, sizeof ch->e_sk);
	if (crypto_scalarmult_base(ch->e_pk, ch->e_sk) != 0) {
		hw_channel_free(ch);
		*out = NULL;
		return HW_ENOMEM; /* cannot happen for a clamped scalar */
	}
	hello_build(ch);
	ch->hs = ch->role == HW_CHANNEL_INITIATOR ? HS_SEND_HELLO : HS_WAIT_HELLO;
	return 0;
}

void hw_channel_free(struct hw_channel *ch)
{
	if (!ch)
		return;
	sodium_memzero(ch, sizeof(*ch));
	free(ch);
}

bool hw_channel_insecure(const struct hw_channel *ch)
{
	return ch->insecure;
}

bool hw_channel_is_open(const struct hw_channel *ch)
{
	return ch->err == 0 && ch->hs == HS_OPEN;
}

int hw_channel_error(const struct hw_channel *ch)
{
	return ch->err;
}

const uint8_t *hw_channel_peer_key(const struct hw_channel *ch)
{
	return ch->have_peer ? ch->peer_s : NULL;
}

const uint8_t *hw_channel_offered_key(const struct hw_channel *ch)
{
	return ch->have_offered ? ch->offered : NULL;
}

void hw_channel_fingerprint(const uint8_t *key, char out[HW_CHANNEL_FINGERPRINT_CHARS + 1])
{
	if (key == NULL) {
		strcpy(out, "-");
		return;
	}
	tohex(key, HW_CHANNEL_FINGERPRINT_CHARS / 2, out);
}

int hw_channel_session_id(const struct hw_channel *ch, uint8_t id[HW_CHANNEL_SESSION_ID_BYTES])
{
	if (ch->insecure || ch->hs != HS_OPEN || ch->err)
		return HW_EPROTOCOL;
	memcpy(id, ch->sid, sizeof ch->sid);
	return 0;
}

void hw_channel_stats(const struct hw_channel *ch, struct hw_channel_stats *st)
{
	*st = ch->st;
}

/* ---- the handshake */

/* Check the peer's hello h and take its keys. Returns 0 or the code to die with. */
static int hello_accept(struct hw_channel *ch, const uint8_t *h)
{
	uint8_t want_role =
		ch->role == HW_CHANNEL_INITIATOR ? HW_CHANNEL_RESPONDER : HW_CHANNEL_INITIATOR;
	if (memcmp(h, hello_magic, 4) != 0)
		return HW_EHANDSHAKE;
	if (h[4] != HELLO_VERSION)
		return HW_ECLUSTER;
	if (h[5] != want_role || (h[6] & ~HELLO_AES) != 0 || h[7] != 0)
		return HW_EHANDSHAKE;
	if (memcmp(h + 8, ch->cluster, 32) != 0)
		return HW_ECLUSTER;
	memcpy(ch->offered, h + 40, 32);
	ch->have_offered = true;
	bool pinned = false;
	for (size_t i = 0; i < ch->pinned_count; i++)
		pinned |= sodium_memcmp(h + 40, ch->pinned[i], 32) == 0;
	if (!pinned)
		return HW_EAUTH;
	memcpy(ch->hello_peer, h, HW_CHANNEL_HELLO_BYTES);
	memcpy(ch->peer_s, h + 40, 32);
	memcpy(ch->peer_e, h + 72, 32);
	ch->have_peer = true;
	/* Both hellos are in the transcript, so a flag cleared on the way fails the finish
	 * MACs: the downgrade to the fallback cannot be forced. */
	ch->cipher = ch->aes && (h[6] & HELLO_AES) ? CIPHER_AES256GCM : CIPHER_XCHACHA20POLY1305;
	return 0;
}

/* 32 bytes of out = BLAKE2b(key = master, label). */
static void kdf(uint8_t out[32], const uint8_t master[TH_BYTES], const char *label)
{
	crypto_generichash(out, 32, (const uint8_t *)label, strlen(label), master, TH_BYTES);
}

/* A direction's key is set: expand it for AES-256-GCM (the fallback uses it as is). */
static void key_schedule(const struct hw_channel *ch, struct dir *d)
{
	if (ch->cipher == CIPHER_AES256GCM)
		crypto_aead_aes256gcm_beforenm(&d->gcm, d->key);
}

/* Both hellos are in: hash the transcript, run the three DHs, derive the directions'
 * keys. Wipes the static and ephemeral secrets. Returns 0 or HW_EHANDSHAKE (a DH gave
 * the all-zero point: the peer sent a low-order key). */
static int derive(struct hw_channel *ch)
{
	bool init = ch->role == HW_CHANNEL_INITIATOR;
	crypto_generichash_state hs;
	crypto_generichash_init(&hs, NULL, 0, TH_BYTES);
	crypto_generichash_update(&hs, (const uint8_t *)th_label, sizeof th_label - 1);
	crypto_generichash_update(&hs, init ? ch->hello_self : ch->hello_peer,
				  HW_CHANNEL_HELLO_BYTES);
	crypto_generichash_update(&hs, init ? ch->hello_peer : ch->hello_self,
				  HW_CHANNEL_HELLO_BYTES);
	crypto_generichash_final(&hs, ch->th, TH_BYTES);
	crypto_generichash(ch->sid, sizeof ch->sid, ch->th, TH_BYTES, NULL, 0);

	/* ee | es | se, where es = DH(e_I, s_R) and se = DH(s_I, e_R). */
	uint8_t dh[96], master[TH_BYTES];
	int rc = 0;
	if (crypto_scalarmult(dh, ch->e_sk, ch->peer_e) != 0 ||
	    crypto_scalarmult(dh + 32, init ? ch->e_sk : ch->self.kx_sk,
			      init ? ch->peer_s : ch->peer_e) != 0 ||
	    crypto_scalarmult(dh + 64, init ? ch->self.kx_sk : ch->e_sk,
			      init ? ch->peer_e : ch->peer_s) != 0)
		rc = HW_EHANDSHAKE;
	if (rc == 0) {
		crypto_generichash(master, TH_BYTES, dh, sizeof dh, ch->th, TH_BYTES);
		struct dir *i2r = init ? &ch->tx : &ch->rx, *r2i = init ? &ch->rx : &ch->tx;
		kdf(i2r->key, master, "hawser channel v2 key i2r");
		kdf(r2i->key, master, "hawser channel v2 key r2i");
		kdf(i2r->iv, master, "hawser channel v2 iv i2r");
		kdf(r2i->iv, master, "hawser channel v2 iv r2i");
		kdf(i2r->mac_key, master, "hawser channel v2 finish i2r");
		kdf(r2i->mac_key, master, "hawser channel v2 finish r2i");
		kdf(i2r->bind, master, "hawser channel v2 bind i2r");
		kdf(r2i->bind, master, "hawser channel v2 bind r2i");
		key_schedule(ch, &ch->tx);
		key_schedule(ch, &ch->rx);
	}
	sodium_memzero(dh, sizeof dh);
	sodium_memzero(master, sizeof master);
	sodium_memzero(ch->e_sk, sizeof ch->e_sk);
	hw_identity_wipe(&ch->self);
	return rc;
}

/* finish of this side into out: MAC(th). */
static void finish_build(struct hw_channel *ch, uint8_t *out)
{
	crypto_auth(out, ch->th, TH_BYTES, ch->tx.mac_key);
}

/* Verify the peer's finish f. Returns 0 or HW_EHANDSHAKE. */
static int finish_accept(struct hw_channel *ch, const uint8_t *f)
{
	return crypto_auth_verify(f, ch->th, TH_BYTES, ch->rx.mac_key) == 0 ? 0 : HW_EHANDSHAKE;
}

/* The handshake is over on this side: drop what only it needed. */
static void handshake_done(struct hw_channel *ch)
{
	sodium_memzero(ch->tx.mac_key, sizeof ch->tx.mac_key);
	sodium_memzero(ch->rx.mac_key, sizeof ch->rx.mac_key);
	ch->hs = HS_OPEN;
}

int hw_channel_handshake_out(struct hw_channel *ch, uint8_t *out, size_t cap, size_t *len)
{
	*len = 0;
	if (ch->err)
		return ch->err;
	size_t need = ch->hs == HS_SEND_HELLO    ? HW_CHANNEL_HELLO_BYTES
		      : ch->hs == HS_SEND_REPLY  ? HW_CHANNEL_HELLO_BYTES + HW_CHANNEL_FINISH_BYTES
		      : ch->hs == HS_SEND_FINISH ? HW_CHANNEL_FINISH_BYTES
						 : 0;
	if (cap < need)
		return -ENOBUFS;
	switch (ch->hs) {
	case HS_SEND_HELLO:
		memcpy(out, ch->hello_self, HW_CHANNEL_HELLO_BYTES);
		ch->hs = HS_WAIT_REPLY;
		break;
	case HS_SEND_REPLY:
		memcpy(out, ch->hello_self, HW_CHANNEL_HELLO_BYTES);
		finish_build(ch, out + HW_CHANNEL_HELLO_BYTES);
		ch->hs = HS_WAIT_FINISH;
		break;
	case HS_SEND_FINISH:
		finish_build(ch, out);
		handshake_done(ch);
		break;
	default:
		break;
	}
	*len = need;
	return 0;
}

/* Bytes the handshake waits for in this state, or 0 when it expects none. */
static size_t handshake_need(const struct hw_channel *ch)
{
	switch (ch->hs) {
	case HS_WAIT_HELLO:
		return HW_CHANNEL_HELLO_BYTES;
	case HS_WAIT_REPLY:
		return HW_CHANNEL_HELLO_BYTES + HW_CHANNEL_FINISH_BYTES;
	case HS_WAIT_FINISH:
		return HW_CHANNEL_FINISH_BYTES;
	default:
		return 0;
	}
}

int hw_channel_handshake_in(struct hw_channel *ch, const uint8_t *in, size_t len, size_t *consumed)
{
	*consumed = 0;
	if (ch->err)
		return ch->err;
	size_t need = handshake_need(ch);
	if (need == 0)
		return die(ch, HW_EPROTOCOL);
	/* A hello that does not even start right is refused before the rest is waited for;
	 * a plaintext frame in its place is a peer that runs insecure. */
	if (ch->hs != HS_WAIT_FINISH && hw_frame_starts_plain(in, len))
		return die(ch, HW_ECHANNEL);
	if (ch->hs != HS_WAIT_FINISH && len > 0 && memcmp(in, hello_magic, len < 4 ? len : 4) != 0)
		return die(ch, HW_EHANDSHAKE);
	if (len < need)
		return -EAGAIN;
	int rc = 0;
	switch (ch->hs) {
	case HS_WAIT_HELLO:
		rc = hello_accept(ch, in);
		if (rc == 0)
			rc = derive(ch);
		ch->hs = HS_SEND_REPLY;
		break;
	case HS_WAIT_REPLY:
		rc = hello_accept(ch, in);
		if (rc == 0)
			rc = derive(ch);
		if (rc == 0)
			rc = finish_accept(ch, in + HW_CHANNEL_HELLO_BYTES);
		ch->hs = HS_SEND_FINISH;
		break;
	default: /* HS_WAIT_FINISH */
		rc = finish_accept(ch, in);
		handshake_done(ch);
		break;
	}
	if (rc)
		return die(ch, rc);
	*consumed = need;
	return 0;
}

/* ---- records */

/* The nonce of d's record seq: iv with seq (u64 LE) XORed into its last 8 bytes, as TLS
 * 1.3 does; unique per key as long as seq does not wrap, which 2^64 records never do. */
static void record_nonce(const struct hw_channel *ch, const struct dir *d, uint64_t seq,
			 uint8_t nonce[IV_BYTES])
{
	size_t n = ch->cipher == CIPHER_AES256GCM ? crypto_aead_aes256gcm_NPUBBYTES
						  : crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	memcpy(nonce, d->iv, IV_BYTES);
	for (size_t i = 0; i < 8; i++)
		nonce[n - 8 + i] ^= (uint8_t)(seq >> (8 * i));
}

/* The additional data of a record: its header and the direction's binding. */
static void record_ad(uint8_t ad[AD_BYTES], const uint8_t *header, const struct dir *d)
{
	memcpy(ad, header, HW_CHANNEL_RECORD_HEADER_BYTES);
	memcpy(ad + HW_CHANNEL_RECORD_HEADER_BYTES, d->bind, BIND_BYTES);
}

/* Ratchet d's key forward (after a TYPE_REKEY record): key = BLAKE2b(key = key, label).
 * The old key is gone, so a key taken later does not open earlier records. */
static void rekey(const struct hw_channel *ch, struct dir *d)
{
	uint8_t next[32];
	crypto_generichash(next, sizeof next, (const uint8_t *)rekey_label, sizeof rekey_label - 1,
			   d->key, sizeof d->key);
	memcpy(d->key, next, sizeof next);
	sodium_memzero(next, sizeof next);
	key_schedule(ch, d);
}

static int seal_record(struct hw_channel *ch, const uint8_t *pt, size_t len, uint8_t type,
		       uint8_t *out, size_t cap, size_t *out_len)
{
	size_t total = HW_CHANNEL_RECORD_BYTES(len);
	if (cap < total)
		return -ENOBUFS;
	struct dir *d = &ch->tx;
	if (type == TYPE_MESSAGE) {
		d->since_rekey += len;
		if (d->since_rekey >= ch->rekey_bytes) {
			type = TYPE_REKEY;
			d->since_rekey = 0;
			ch->st.rekeys_out++;
		}
	}
	hw_put_u32(out, (uint32_t)(len + HW_CHANNEL_ABYTES));
	hw_put_u64(out + 4, d->seq);
	out[12] = type;
	uint8_t ad[AD_BYTES], nonce[IV_BYTES];
	record_ad(ad, out, d);
	record_nonce(ch, d, d->seq, nonce);
	uint8_t *ct = out + HW_CHANNEL_RECORD_HEADER_BYTES;
	const uint8_t *m = len ? pt : ad; /* never NULL, even for the empty TYPE_FINAL */
	int rc = ch->cipher == CIPHER_AES256GCM
			 ? crypto_aead_aes256gcm_encrypt_afternm(ct, NULL, m, len, ad, sizeof ad,
								 NULL, nonce, &d->gcm)
			 : crypto_aead_xchacha20poly1305_ietf_encrypt(
				   ct, NULL, m, len, ad, sizeof ad, NULL, nonce, d->key);
	HW_ASSERT(rc == 0);
	if (type == TYPE_REKEY)
		rekey(ch, d);
	d->seq++;
	ch->st.records_out++;
	ch->st.bytes_out += len;
	*out_len = total;
	return 0;
}

int hw_channel_seal(struct hw_channel *ch, const uint8_t *pt, size_t len, uint8_t *out, size_t cap,
		    size_t *out_len)
{
	HW_ASSERT(len <= HW_CHANNEL_PLAINTEXT_MAX);
	*out_len = 0;
	if (ch->err)
		return ch->err;
	if (ch->insecure) {
		if (cap < len)
			return -ENOBUFS;
		if (len > 0)
			memmove(out, pt, len);
		ch->st.records_out++;
		ch->st.bytes_out += len;
		*out_len = len;
		return 0;
	}
	if (ch->hs != HS_OPEN)
		return HW_EPROTOCOL;
	if (ch->tx.final)
		return HW_ECLOSED;
	return seal_record(ch, pt, len, TYPE_MESSAGE, out, cap, out_len);
}

int hw_channel_close_seal(struct hw_channel *ch, uint8_t *out, size_t cap, size_t *out_len)
{
	*out_len = 0;
	if (ch->err)
		return ch->err;
	if (ch->insecure)
		return 0;
	if (ch->hs != HS_OPEN)
		return HW_EPROTOCOL;
	if (ch->tx.final)
		return HW_ECLOSED;
	int rc = seal_record(ch, NULL, 0, TYPE_FINAL, out, cap, out_len);
	if (rc == 0)
		ch->tx.final = true;
	return rc;
}

static int open_insecure(struct hw_channel *ch, const uint8_t *in, size_t len, size_t *consumed,
			 uint8_t *out, size_t cap, size_t *out_len)
{
	if (len == 0)
		return -EAGAIN;
	size_t n = len < cap ? len : cap;
	if (n == 0)
		return -ENOBUFS;
	memmove(out, in, n);
	ch->st.records_in++;
	ch->st.bytes_in += n;
	*consumed = n;
	*out_len = n;
	return 0;
}

/* Check a record header before its body is waited for. 0 or the code to die with. */
static int header_check(const struct hw_channel *ch, const uint8_t *h)
{
	uint32_t n = hw_get_u32(h);
	if (n < HW_CHANNEL_ABYTES || n > ch->open_max + HW_CHANNEL_ABYTES)
		return HW_EFRAME;
	if (h[12] < TYPE_MESSAGE || h[12] > TYPE_FINAL ||
	    (h[12] == TYPE_FINAL && n != HW_CHANNEL_ABYTES))
		return HW_EFRAME;
	if (hw_get_u64(h + 4) != ch->rx.seq)
		return HW_EREPLAY;
	return 0;
}

int hw_channel_open(struct hw_channel *ch, const uint8_t *in, size_t len, size_t *consumed,
		    uint8_t *out, size_t cap, size_t *out_len)
{
	*consumed = 0;
	*out_len = 0;
	if (ch->err)
		return ch->err;
	if (ch->insecure)
		return open_insecure(ch, in, len, consumed, out, cap, out_len);
	if (ch->hs != HS_OPEN)
		return die(ch, HW_EPROTOCOL);
	if (ch->rx.final)
		return HW_ECLOSED;
	if (len < HW_CHANNEL_RECORD_HEADER_BYTES)
		return -EAGAIN;
	int rc = header_check(ch, in);
	if (rc)
		return die(ch, rc);
	uint32_t n = hw_get_u32(in);
	if (len < HW_CHANNEL_RECORD_HEADER_BYTES + (size_t)n)
		return -EAGAIN;
	size_t mlen = n - HW_CHANNEL_ABYTES;
	if (cap < mlen)
		return -ENOBUFS;
	struct dir *d = &ch->rx;
	uint8_t ad[AD_BYTES], nonce[IV_BYTES], type = in[12];
	record_ad(ad, in, d);
	record_nonce(ch, d, d->seq, nonce);
	const uint8_t *ct = in + HW_CHANNEL_RECORD_HEADER_BYTES;
	rc = ch->cipher == CIPHER_AES256GCM
		     ? crypto_aead_aes256gcm_decrypt_afternm(out, NULL, NULL, ct, n, ad, sizeof ad,
							     nonce, &d->gcm)
		     : crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, ct, n, ad,
								  sizeof ad, nonce, d->key);
	if (rc != 0)
		return die(ch, HW_EDECRYPT);
	d->seq++;
	*consumed = HW_CHANNEL_RECORD_HEADER_BYTES + n;
	if (type == TYPE_FINAL) {
		d->final = true;
		return HW_ECLOSED;
	}
	if (type == TYPE_REKEY) {
		rekey(ch, d);
		ch->st.rekeys_in++;
	}
	ch->st.records_in++;
	ch->st.bytes_in += mlen;
	*out_len = mlen;
	return 0;
}

const char *hw_channel_cipher(const struct hw_channel *ch)
{
	if (ch->insecure)
		return "none";
	switch (ch->cipher) {
	case CIPHER_AES256GCM:
		return "aes256gcm";
	case CIPHER_XCHACHA20POLY1305:
		return "xchacha20poly1305";
	default:
		return NULL;
	}
}

int hw_channel_eof(struct hw_channel *ch)
{
	if (ch->err)
		return ch->err;
	if (ch->insecure || ch->rx.final)
		return 0;
	return die(ch, ch->hs == HS_OPEN ? HW_EDECRYPT : HW_EHANDSHAKE);
}
