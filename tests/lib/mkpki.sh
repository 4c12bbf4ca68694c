#!/usr/bin/env bash
# mkpki.sh DIR - a throwaway PKI for the TLS tests, made with openssl alone.
#
#   root.pem                  the root CA (what clients trust)
#   int.pem int.key           an intermediate CA, signed by the root; it signs
#                             every leaf below (openssl ca, so index.txt knows
#                             them and OCSP responses can be made for them)
#   mx-ec.pem mx-ec.key       mx.test, 127.0.0.1: ECDSA P-256 (+ int in the file),
#                             89 days and a half left, as mx-rsa and other
#   mx-rsa.pem mx-rsa.key     the same names, RSA 2048 (+ int)
#   other.pem other.key       other.test, *.wild.test: ECDSA (+ int)
#   soon.pem soon.key         mx.test, 9 days and a half left (+ int)
#   expired.pem expired.key   mx.test, expired in 2020 (+ int)
#   unordered.pem             mx-ec's leaf, then the root, then int: out of order
#   mx-ec-leaf.pem            the leaf alone; int.pem can go in a chain file
#   ocsp.der                  a "good" OCSP response for mx-ec, by int, 1 day
#   ocsp-other.der            the same for other: not about mx-ec
#   wrong.key                 a key that belongs to no certificate
#
# Documentation addresses only; nothing here is ever trusted by the machine.
set -euo pipefail

d=${1:?usage: mkpki.sh DIR}
mkdir -p "$d"
cd "$d"
# Quiet unless it fails: then what openssl said, and the command.
q() {
	local out
	out=$("$@" 2>&1) || {
		echo "mkpki.sh: failed: $*" >&2
		echo "$out" >&2
		return 1
	}
}

cat >ca.cnf <<'EOF'
[ ca ]
default_ca = int
[ int ]
dir = .
database = index.txt
new_certs_dir = newcerts
serial = serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[ any ]
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_leaf ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
# Where a client would check revocation (nothing answers there: the tests
# staple responses), so that scanners find revocation information.
authorityInfoAccess = OCSP;URI:http://ocsp.test/
crlDistributionPoints = URI:http://crl.test/int.crl
EOF
mkdir -p newcerts
: >index.txt
echo 1000 >serial

# root, and the intermediate it signs
q openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -days 400 \
	-subj "/CN=mailedge test root" -config ca.cnf -extensions v3_ca
q openssl req -new -newkey rsa:2048 -nodes -keyout int.key -out int.csr \
	-subj "/CN=mailedge test intermediate" -config ca.cnf
q openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -out int.pem \
	-days 400 -extfile ca.cnf -extensions v3_ca

# leaf NAME KEYALG SANS [extra ca args...]
leaf() {
	local name=$1 alg=$2 sans=$3
	shift 3
	case $alg in
	ec) q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key" ;;
	rsa) q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name.key" ;;
	esac
	q openssl req -new -key "$name.key" -out "$name.csr" -subj "/CN=${sans%%,*}" \
		-config ca.cnf -addext "subjectAltName=$(echo "$sans" |
			sed -e 's/\([^,]*\)/DNS:\1/g' -e 's/DNS:\([0-9.]*\)\(,\|$\)/IP:\1\2/g')"
	q openssl ca -batch -config ca.cnf -cert int.pem -keyfile int.key -in "$name.csr" \
		-out "$name-leaf.pem" -extensions v3_leaf -notext "$@"
	cat "$name-leaf.pem" int.pem >"$name.pem"
}

# Validity from a day ago to half a day short of whole days ahead: a check
# that counts whole days left sees 89 (and 9) however long the tests run.
valid() { # days
	echo -startdate "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" \
		-enddate "$(date -u -d "+$(($1 - 1)) days 12 hours" +%Y%m%d%H%M%SZ)"
}
# shellcheck disable=SC2046
leaf mx-ec ec "mx.test,127.0.0.1" $(valid 90)
# shellcheck disable=SC2046
leaf mx-rsa rsa "mx.test,127.0.0.1" $(valid 90)
# shellcheck disable=SC2046
leaf other ec "other.test,*.wild.test" $(valid 90)
# shellcheck disable=SC2046
leaf soon ec "mx.test,127.0.0.1" $(valid 10)
leaf expired ec "mx.test" -startdate 20200101000000Z -enddate 20200201000000Z
cat mx-ec-leaf.pem root.pem int.pem >unordered.pem
q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out wrong.key

# OCSP: a request for mx-ec, answered by the intermediate (the issuer itself
# signs, which clients accept without a delegation).
q openssl ocsp -issuer int.pem -cert mx-ec-leaf.pem -no_nonce -reqout ocsp.req
q openssl ocsp -index index.txt -rsigner int.pem -rkey int.key -CA int.pem -reqin ocsp.req \
	-respout ocsp.der -ndays 1
# The same response, for another certificate: must be refused.
q openssl ocsp -issuer int.pem -cert other-leaf.pem -no_nonce -reqout other.req
q openssl ocsp -index index.txt -rsigner int.pem -rkey int.key -CA int.pem -reqin other.req \
	-respout ocsp-other.der -ndays 1
chmod 644 ./*.pem ./*.der ./*.key
