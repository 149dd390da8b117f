"""Before each trial: empty both stores and the acks file.

    reset.py --primary-direct PORT --replica PORT --acks PATH
"""

import argparse
import http.client
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--primary-direct", type=int, required=True)
    parser.add_argument("--replica", type=int, required=True)
    parser.add_argument("--acks", required=True)
    args = parser.parse_args()
    for port in (args.primary_direct, args.replica):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/reset", body="{}", headers={"Content-Type": "application/json"})
        if conn.getresponse().status != 200:
            print("reset of 127.0.0.1:%d failed" % port)
            return 1
    open(args.acks, "w").close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
