"""The workload of a trial: writes keys to the primary (through Faultline) until it is killed
(SIGTERM ends it at once), and appends every key the primary acknowledged to the acks file,
one a line, flushed as it goes.

    workload.py --primary PORT --acks PATH [--rate 100]
"""

import argparse
import http.client
import json
import sys
import time

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--primary", type=int, required=True)
    parser.add_argument("--acks", required=True)
    parser.add_argument("--rate", type=float, default=100)
    args = parser.parse_args()
    n = int(time.time() * 1000) % 1000000
    with open(args.acks, "a") as acks:
        while True:
            key = "w%d" % n
            n += 1
            conn = http.client.HTTPConnection("127.0.0.1", args.primary, timeout=2)
            try:
                conn.request("PUT", "/kv/" + key, body=json.dumps({"value": n}), headers={"Content-Type": "application/json"})
                if conn.getresponse().status == 200:
                    acks.write(key + "\n")
                    acks.flush()
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            time.sleep(1.0 / args.rate)


if __name__ == "__main__":
    sys.exit(main())
