"""Hooks on certificates (for statistics counters). Sent by `lms.certs.operations`
inside the transaction of the change, exactly once per real change.

    certificate_issued.send(certificate)
    certificate_revoked.send(certificate)
    certificate_reinstated.send(certificate)
"""

from blinker import Namespace

signals = Namespace()

certificate_issued = signals.signal("certificate-issued")
certificate_revoked = signals.signal("certificate-revoked")
certificate_reinstated = signals.signal("certificate-reinstated")
