/* Shards: --shard K/N parsed, slices balanced by cost and the same on every
 * call, SHA-256 against the FIPS 180-4 examples, and exact integers kept
 * when a report is read back. */
#include "core.h"
#include "shard.h"
#include "check.h"

#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void digest_is(const char *text, const char *want)
{
    char hex[65];
    ab_sha256_hex(text, strlen(text), hex);
    CHECK(!strcmp(hex, want));
    if (strcmp(hex, want))
        fprintf(stderr, "sha256(\"%s\") = %s, expected %s\n", text, hex, want);
}

int main(void)
{
    digest_is("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    digest_is("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* 56 bytes: the length no longer fits the block, a second one follows. */
    digest_is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char big[1001];
    memset(big, 'a', 1000);
    big[1000] = '\0';
    digest_is(big, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");

    struct ab_shard s;
    CHECK(ab_shard_parse("0/1", &s) == 0 && s.index == 0 && s.count == 1);
    CHECK(ab_shard_parse("2/3", &s) == 0 && s.index == 2 && s.count == 3);
    CHECK(ab_shard_parse("3/3", &s) == -ERANGE);
    CHECK(ab_shard_parse("0/0", &s) == -ERANGE);
    CHECK(ab_shard_parse("0/10001", &s) == -ERANGE);
    CHECK(ab_shard_parse("9999/10000", &s) == 0);
    CHECK(ab_shard_parse("-1/3", &s) == -EINVAL);
    CHECK(ab_shard_parse("1", &s) == -EINVAL);
    CHECK(ab_shard_parse("1/", &s) == -EINVAL);
    CHECK(ab_shard_parse("/3", &s) == -EINVAL);
    CHECK(ab_shard_parse("1/3/4", &s) == -EINVAL);
    CHECK(ab_shard_parse("a/b", &s) == -EINVAL);

    /* Thread counts 1, 2, 3 and 8 into two slices: the 8 alone, the rest
     * together (8 against 6), never 1+8 against 2+3. */
    const double cost[] = {1, 2, 3, 8};
    unsigned of[4];
    CHECK(ab_shard_assign(cost, 4, 2, of) == 0);
    CHECK(of[3] == 0 && of[0] == 1 && of[1] == 1 && of[2] == 1);
    /* Equal costs: dealt out in order. */
    const double same[] = {5, 5, 5, 5, 5};
    unsigned of5[5];
    CHECK(ab_shard_assign(same, 5, 3, of5) == 0);
    CHECK(of5[0] == 0 && of5[1] == 1 && of5[2] == 2 && of5[3] == 0 && of5[4] == 1);
    /* More slices than configurations: the last slices hold none. */
    unsigned of2[2];
    CHECK(ab_shard_assign(cost, 2, 4, of2) == 0 && of2[1] == 0 && of2[0] == 1);
    /* Every configuration in exactly one slice, costs within LPT's bound,
     * and the same slices on a second call. */
    double many[40];
    unsigned a[40], b[40];
    for (int i = 0; i < 40; i++)
        many[i] = 1 + (i * 7919) % 13;
    CHECK(ab_shard_assign(many, 40, 6, a) == 0 && ab_shard_assign(many, 40, 6, b) == 0);
    CHECK(!memcmp(a, b, sizeof a));
    double load[6] = {0}, total = 0, most = 0;
    for (int i = 0; i < 40; i++) {
        CHECK(a[i] < 6);
        load[a[i]] += many[i];
        total += many[i];
        most = many[i] > most ? many[i] : most;
    }
    for (int k = 0; k < 6; k++)
        CHECK(load[k] <= total / 6 + most);

    /* A seed past 2^53 read back prints as it was written. */
    const char *text = "{\"seed\": 18446744073709551615, \"n\": [1, 2.5, -3],"
                       " \"s\": \"9007199254740993\", \"big\": 9007199254740993}";
    char why[128];
    cJSON *doc = ab_json_parse_strict(text, strlen(text), why, sizeof why);
    CHECK(doc != NULL);
    ab_json_keep_integers(doc, text, strlen(text));
    char *out = cJSON_PrintUnformatted(doc);
    const char *want = "{\"seed\":18446744073709551615,\"n\":[1,2.5,-3],"
                       "\"s\":\"9007199254740993\",\"big\":9007199254740993}";
    CHECK(out && !strcmp(out, want));
    if (out && strcmp(out, want))
        fprintf(stderr, "read back: %s\n", out);
    free(out);
    cJSON_Delete(doc);
    return check_done();
}
