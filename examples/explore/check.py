"""The invariant: every write the primary acknowledged can be read from the replica.

    check.py --replica PORT --acks PATH

Waits 0.3 s for replication in flight, then reads each acknowledged key from the
replica (directly, not through Faultline). Exit 0 when all are there, 1 naming the lost ones.
"""

import argparse
import http.client
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--replica", type=int, required=True)
    parser.add_argument("--acks", required=True)
    args = parser.parse_args()
    time.sleep(0.3)
    with open(args.acks) as f:
        keys = [line.strip() for line in f if line.strip()]
    lost = []
    conn = http.client.HTTPConnection("127.0.0.1", args.replica, timeout=5)
    for key in keys:
        conn.request("GET", "/kv/" + key)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            lost.append(key)
    if lost:
        print("lost %d of %d acknowledged writes: %s" % (len(lost), len(keys), " ".join(lost[:10])))
        return 1
    print("all %d acknowledged writes are on the replica" % len(keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
