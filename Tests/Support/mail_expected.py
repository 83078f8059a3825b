#!/usr/bin/env python3
"""Mail made by Python's own `email` and `mailbox` packages, and what native Python and `ripmime`
read in it, as JSON, for MailModuleTests and Benchmarks/mail_benchmark.py.

Usage: /usr/bin/python3 mail_expected.py --make DIR [--messages N]   (fills DIR, see make)
       /usr/bin/python3 mail_expected.py FILE...                       (prints the expectations)

Per file (an .eml, or an .mbox read with mailbox.mbox), computed by native CPython's `email` under
`email.policy.default` and by `ripmime` when installed; nothing is copied from the module:
- "headers": every header in order, as `str()` of policy.default's header object (decoded);
- "message": Message-ID, Date (ISO 8601 from the header's datetime), From, To, Cc, Subject,
  In-Reply-To, X-Mailer and the number of Received headers;
- "leaves": (content type, filename, decoded size, sha256) of every leaf part `Message.walk()`
  reaches, nested messages included (their parts are read by the recursion in WADUP);
- "defects": the class names of the defects `email` records on every part walked (after decoding);
- "ripmime": name and sha256 of every named file `ripmime -i FILE -d DIR` extracts (attachments
  and nested messages, at any depth, a nested message sent base64 decoded; its `textfileN` bodies
  are left out);
- mbox: "messages": the sha256 of `mailbox.mbox.get_bytes(key)` of every message, in order, and
  "zip_entries": the names of the entries of every ZIP attached anywhere in it (zipfile).
"""
import argparse, email, email.policy, hashlib, io, json, mailbox, os, random, shutil, subprocess, sys, tempfile, zipfile
from email.charset import Charset
from email.header import Header
from email.message import EmailMessage
from email import encoders
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText


def sha(data):
    return hashlib.sha256(data).hexdigest()


def zip_bytes(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 2, 3, 4, 6)), data)
    return buffer.getvalue()


def nested_message(rng, tag):
    """A message/rfc822 to attach: its own text body and a ZIP attachment."""
    inner = EmailMessage()
    inner["From"] = "Forwarder <fwd@example.net>"
    inner["To"] = "victim@example.com"
    inner["Subject"] = "Fwd: invoice %s" % tag
    inner["Message-ID"] = "<inner-%s@example.net>" % tag
    inner["Date"] = "Tue, 02 Jan 2024 10:00:00 +0100"
    inner.set_content("The invoice %s is attached.\n" % tag)
    inner.add_attachment(zip_bytes([("invoice-%s.txt" % tag, ("total %d\n" % rng.randrange(10**6)).encode()),
                                    ("docs/readme-%s.txt" % tag, b"read me\n" * 40)]),
                         maintype="application", subtype="zip", filename="invoice-%s.zip" % tag)
    return inner


def multipart_message(rng):
    """Several charsets, quoted-printable and base64, a binary and a ZIP attachment, an RFC 2231
    filename and a nested message with its own attachment."""
    m = EmailMessage()
    m["From"] = "Zoë Müller <zoe@example.org>"
    m["To"] = "Bob <bob@example.com>, carol@example.com"
    m["Cc"] = "Dan Ñúñez <dan@example.es>"
    m["Subject"] = "Rechnung für März – 請求書"
    m["Message-ID"] = "<multi-1@example.org>"
    m["In-Reply-To"] = "<earlier-0@example.com>"
    m["Date"] = "Mon, 01 Jan 2024 12:34:56 -0500"
    m["X-Mailer"] = "Python email %s" % sys.version.split()[0]
    m["Received"] = "from relay.example.org (relay [192.0.2.1]) by mx.example.com; Mon, 01 Jan 2024 17:35:00 +0000"
    m["Received"] = "from laptop (laptop [198.51.100.7]) by relay.example.org; Mon, 01 Jan 2024 17:34:58 +0000"
    m.set_content("Grüße aus München: the invoice is attached.\n" * 5, charset="utf-8", cte="quoted-printable")
    m.add_alternative("<html><body><p>Caf\xe9 cr\xe8me &amp; cr\xeape</p></body></html>\n", subtype="html",
                      charset="iso-8859-1", cte="base64")
    m.add_attachment(rng.randbytes(3000), maintype="application", subtype="octet-stream", filename="payload.bin")
    m.add_attachment(zip_bytes([("a.txt", b"alpha\n" * 100), ("dir/b.bin", rng.randbytes(500))]),
                     maintype="application", subtype="zip", filename="archive.zip")
    m.add_attachment("Liste des élèves\n".encode("iso-8859-1"), maintype="text", subtype="plain",
                     filename="élèves.txt", params={"charset": "iso-8859-1"})
    m.add_attachment(nested_message(rng, "N1"), filename="forwarded.eml")
    return m


def latin_message():
    """compat32's MIMEText: an 8-bit ISO-8859-1 body, an RFC 2047 Q-encoded ISO-8859-1 subject, CRLF."""
    charset = Charset("iso-8859-1")
    charset.body_encoding = None  # 8bit
    m = MIMEText("Ceci est un message en français, encodé en ISO-8859-1.\nÀ bientôt.\n", "plain", charset)
    m["From"] = "Élodie <elodie@example.fr>"
    m["To"] = "team@example.fr"
    m["Subject"] = Header("Réunion à 15 h", "iso-8859-1").encode()
    m["Message-ID"] = "<latin-1@example.fr>"
    m["Date"] = "Wed, 03 Jan 2024 08:00:00 +0100"
    return m.as_bytes(policy=email.policy.compat32.clone(linesep="\r\n"))


def encoded_message(rng):
    """compat32's MIMEMultipart with a nested message sent base64 (RFC 2046 allows only 7bit, 8bit
    and binary for message/rfc822; mailers do it anyway)."""
    m = MIMEMultipart()
    m["From"] = "relay@example.org"
    m["To"] = "soc@example.org"
    m["Subject"] = "reported phish"
    m["Message-ID"] = "<encoded-1@example.org>"
    m.attach(MIMEText("The reported message is attached.\n"))
    inner = MIMEBase("message", "rfc822")
    inner.set_payload(nested_message(rng, "E1").as_bytes())
    encoders.encode_base64(inner)
    inner.add_header("Content-Disposition", "attachment", filename="reported.eml")
    m.attach(inner)
    return m.as_bytes()


def broken_message(rng):
    """A multipart message whose base64 attachment is cut short and whose closing boundary is missing."""
    m = EmailMessage()
    m["From"] = "broken@example.org"
    m["To"] = "x@example.org"
    m["Subject"] = "truncated"
    m["Message-ID"] = "<broken-1@example.org>"
    m.set_content("the body before the damage\n")
    m.add_attachment(rng.randbytes(2000), maintype="application", subtype="octet-stream", filename="cut.bin")
    data = m.as_bytes()
    boundary = m.get_boundary().encode()
    data = data[:data.rindex(b"--" + boundary + b"--")]  # no closing boundary
    body = data.index(b"\n\n", data.index(b'filename="cut.bin"')) + 2
    cut, characters = body, 0
    for line in data[body:].splitlines(keepends=True)[:10]:
        cut, characters = cut + len(line), characters + len(line.strip())
    return data[:cut] + b"QUJD"[:(2 - characters) % 4]  # the base64 cut mid-quantum: 4k + 2 characters


def mbox_file(path, rng, count):
    """`count` messages written by mailbox.mbox: text bodies, every 25th with a ZIP attached, every
    40th with a nested message carrying a ZIP (a ZIP in an EML in the mbox)."""
    box = mailbox.mbox(path, create=True)
    box.lock()
    for i in range(count):
        m = EmailMessage()
        m["From"] = "sender%d@example.com" % (i % 17)
        m["To"] = "list@example.com"
        m["Subject"] = "message %d%s" % (i, " – ünïcödé" if i % 3 == 0 else "")
        m["Message-ID"] = "<box-%d@example.com>" % i
        m["Date"] = "Thu, 04 Jan 2024 %02d:%02d:00 +0000" % (i // 60 % 24, i % 60)
        m.set_content("Body of message %d.\nFrom the start of a line.\n%s" % (i, "filler text " * rng.randrange(1, 200)))
        if i % 25 == 0:
            m.add_attachment(zip_bytes([("box-%d/data.txt" % i, ("entry %d\n" % i).encode() * 20)]),
                             maintype="application", subtype="zip", filename="box-%d.zip" % i)
        if i % 40 == 0:
            m.add_attachment(nested_message(rng, "B%d" % i), filename="inner-%d.eml" % i)
        box.add(m)
    box.flush()
    box.unlock()
    box.close()


def make(folder, count):
    os.makedirs(folder, exist_ok=True)
    rng = random.Random(25)
    open(os.path.join(folder, "multipart.eml"), "wb").write(bytes(multipart_message(rng)))
    open(os.path.join(folder, "latin1.eml"), "wb").write(latin_message())
    open(os.path.join(folder, "broken.eml"), "wb").write(broken_message(rng))
    open(os.path.join(folder, "encoded.eml"), "wb").write(encoded_message(rng))
    mbox_file(os.path.join(folder, "mailbox.mbox"), rng, count)


def zip_entries(message):
    names = []
    for part in message.walk():
        data = part.get_payload(decode=True) if not part.is_multipart() else None
        if data and data[:4] == b"PK\x03\x04":
            names += zipfile.ZipFile(io.BytesIO(data)).namelist()
    return names


def ripmime(path, encoded=()):
    if not shutil.which("ripmime"):
        return None
    out = tempfile.mkdtemp(prefix="ripmime-")
    try:
        subprocess.run(["ripmime", "-i", path, "-d", out], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Its files named by the parts (not its textfileN bodies, whose line ends it rewrites).
        # A nested message as ripmime saves it ends with the line end before the next boundary,
        # which RFC 2046 (5.1.1) makes part of the boundary: that line end is left out here (not
        # from one sent base64 or quoted-printable: `encoded`, whose decoded bytes are exact).
        found = {}
        for f in sorted(os.listdir(out)):
            if not f.startswith("textfile"):
                data = open(os.path.join(out, f), "rb").read()
                if f.endswith(".eml") and f not in encoded:
                    data = data[:-2] if data.endswith(b"\r\n") else data[:-1] if data.endswith(b"\n") else data
                found[f] = sha(data)
        return found
    finally:
        shutil.rmtree(out)


def expected_message(data):
    m = email.message_from_bytes(data, policy=email.policy.default)
    date = m["date"]
    leaves, defects = [], []
    for part in m.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True) or b""
            leaves.append({"content_type": part.get_content_type(), "filename": part.get_filename(), "size": len(payload), "sha256": sha(payload)})
        defects += [type(d).__name__ for d in part.defects]
    return {
        "headers": [[name, str(value)] for name, value in m.items()],
        "message": {
            "message_id": m.get("message-id") and str(m["message-id"]),
            "date": date.datetime.isoformat() if date is not None and date.datetime is not None else (date and str(date)),
            "sender": m.get("from") and str(m["from"]), "recipients": m.get("to") and str(m["to"]),
            "cc": m.get("cc") and str(m["cc"]), "subject": m.get("subject") and str(m["subject"]),
            "in_reply_to": m.get("in-reply-to") and str(m["in-reply-to"]), "x_mailer": m.get("x-mailer") and str(m["x-mailer"]),
            "received_hops": len(m.get_all("received") or []),
        },
        "leaves": leaves, "defects": defects, "zip_entries": zip_entries(m),
    }


def expected(path):
    if path.endswith(".mbox"):
        box = mailbox.mbox(path, create=False)
        keys = sorted(box.keys())
        out = {"messages": [sha(box.get_bytes(k)) for k in keys], "zip_entries": []}
        for k in keys:
            out["zip_entries"] += zip_entries(email.message_from_bytes(box.get_bytes(k), policy=email.policy.default))
        box.close()
        return out
    data = open(path, "rb").read()
    out = expected_message(data)
    encoded = [part.get_filename() for part in email.message_from_bytes(data, policy=email.policy.default).walk()
               if part.get_content_type() == "message/rfc822" and str(part.get("content-transfer-encoding", "")).lower() in ("base64", "quoted-printable")]
    out["ripmime"] = ripmime(path, encoded)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--make")
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    if args.make:
        make(args.make, args.messages)
        return
    json.dump({os.path.basename(f): expected(f) for f in args.files}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
