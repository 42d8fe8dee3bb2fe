/* The NF types built into libnfchain: one line per NF. Each nf/<name>/
 * folder defines `const struct nfc_nf_type nf_type_<name>`. */
NFC_TYPE(forwarder)
NFC_TYPE(counter)
NFC_TYPE(router)
NFC_TYPE(bridge)
NFC_TYPE(firewall)
NFC_TYPE(capture)
NFC_TYPE(filter)
NFC_TYPE(ddos)
NFC_TYPE(lb)
NFC_TYPE(nat)
