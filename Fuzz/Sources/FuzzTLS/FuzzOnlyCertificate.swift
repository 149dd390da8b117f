// FUZZ-ONLY KEY MATERIAL. Not a secret and not for any other use: a self-signed P-256 certificate
// for "localhost" and 127.0.0.1 (valid 2000-01-01 to 2100-01-01) and its private key, so the `tls`
// fuzz target (main.swift) has a server identity without running the openssl CLI at start-up.
// It is published here, so anything it "protects" is public. Made with `openssl req -new -newkey ec
// -pkeyopt ec_paramgen_curve:P-256 -nodes` and `openssl ca -selfsign -startdate 20000101000000Z
// -enddate 21000101000000Z` (extensions: basicConstraints critical CA:FALSE, subjectAltName
// DNS:localhost, IP:127.0.0.1).

let fuzzOnlyCertificatePEM = """
-----BEGIN CERTIFICATE-----
MIIBtzCCAV6gAwIBAgIBATAKBggqhkjOPQQDAjA+MTwwOgYDVQQDDDNGYXVsdGxp
bmUgZnV6ei1vbmx5IHRlc3QgY2VydGlmaWNhdGUgKG5vdCBhIHNlY3JldCkwIBcN
MDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMD4xPDA6BgNVBAMMM0ZhdWx0
bGluZSBmdXp6LW9ubHkgdGVzdCBjZXJ0aWZpY2F0ZSAobm90IGEgc2VjcmV0KTBZ
MBMGByqGSM49AgEGCCqGSM49AwEHA0IABEAAr3cFnnQ+or4nsCG9Wpm3WXH0shFT
//WmCenXOP940D7ywVHoaHyEbYE89UXT2ASP6GlfZPMyQ4kRX19aQmejSzBJMAwG
A1UdEwEB/wQCMAAwGgYDVR0RBBMwEYIJbG9jYWxob3N0hwR/AAABMB0GA1UdDgQW
BBSr3sY/zxu3inDLERjtYujwDg5mOjAKBggqhkjOPQQDAgNHADBEAiA+szNPIZPR
LTXkLfa9INKBDH/xhvEldYafjcTERp5qlgIgHbJ2OO120PUYs7Y4WKzloY3ejG0X
dEe9/eZOWhkiswc=
-----END CERTIFICATE-----
"""

let fuzzOnlyPrivateKeyPEM = """
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgz4S8nJePv8xMisGZ
M1P5L3A9c1aWSPxBIHtSNrw8vgOhRANCAARAAK93BZ50PqK+J7AhvVqZt1lx9LIR
U//1pgnp1zj/eNA+8sFR6Gh8hG2BPPVF09gEj+hpX2TzMkOJEV9fWkJn
-----END PRIVATE KEY-----
"""
