#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The tunnel traffic of tests/tunnel_view_test.sh, built here byte by byte
(independent of tests/frames.c), written as a pcap or sent out of an
interface (AF_PACKET):

    tunnel_frames.py pcap FILE
    tunnel_frames.py send IFACE DST-MAC SRC-MAC

The frames, in order (TABLE below), and what --decap makes of them:
  5  VXLAN 192.0.2.1 > 192.0.2.2 (VNI 100) carrying TCP 10.10.1.10 > 10.20.0.80
  3  the same VXLAN carrying ESP (SPI 0xd7ca145d, sequence 1, 2, 3)
  1  GRE 192.0.2.5 > 192.0.2.6 carrying TCP 10.10.1.10 > 10.20.0.80
  2  GTP-U 192.0.2.3 > 192.0.2.4 (a G-PDU) carrying TCP 10.10.1.10 > 10.30.0.5
  1  VXLAN without the I flag: tun_bad_hdr
  1  GTP-U echo request: tun_other
  2  TCP 10.10.1.10 > 10.20.0.81, in no tunnel
15 frames; 11 packets inside tunnels counted, 2 not.
"""
import socket
import struct
import sys

ETH_IP4 = 0x0800
INNER_SRC_MAC = bytes.fromhex('020000000a01')
INNER_DST_MAC = bytes.fromhex('020000000a02')


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip4(src, dst, proto, payload):
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1, 0, 64,
                      proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
    return hdr + payload


def tcp(sport, dport):
    # a SYN, 20 bytes, no options (the checksum is not looked at)
    return struct.pack('!HHIIBBHHH', sport, dport, 1, 0, 5 << 4, 0x02, 65535, 0, 0)


def udp(sport, dport, payload):
    return struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload


def esp(spi, seq):
    return struct.pack('!II', spi, seq) + bytes(32)


def eth(dst, src, payload, etype=ETH_IP4):
    return dst + src + struct.pack('!H', etype) + payload


def vxlan(inner_ip, flags=0x08):
    return struct.pack('!B3xI', flags, 100 << 8) + eth(INNER_DST_MAC, INNER_SRC_MAC, inner_ip)


def gtpu(msg_type, payload):
    # version 1, protocol type 1, no E/S/PN: 8 bytes
    return struct.pack('!BBHI', 0x30, msg_type, len(payload), 0x1234) + payload


def gre(inner_ip):
    return struct.pack('!HH', 0, ETH_IP4) + inner_ip


def table():
    """[(count, outer IP packet maker(i))]"""
    tcp80 = ip4('10.10.1.10', '10.20.0.80', 6, tcp(40000, 80))
    return [
        (5, lambda i: ip4('192.0.2.1', '192.0.2.2', 17, udp(50000, 4789, vxlan(tcp80)))),
        (3, lambda i: ip4('192.0.2.1', '192.0.2.2', 17, udp(50000, 4789, vxlan(
            ip4('10.10.1.10', '10.20.0.80', 50, esp(0xd7ca145d, i + 1)))))),
        (1, lambda i: ip4('192.0.2.5', '192.0.2.6', 47, gre(tcp80))),
        (2, lambda i: ip4('192.0.2.3', '192.0.2.4', 17, udp(2152, 2152, gtpu(0xff,
            ip4('10.10.1.10', '10.30.0.5', 6, tcp(40001, 443)))))),
        (1, lambda i: ip4('192.0.2.1', '192.0.2.2', 17, udp(50000, 4789, vxlan(tcp80, 0)))),
        (1, lambda i: ip4('192.0.2.3', '192.0.2.4', 17, udp(2152, 2152, gtpu(1, b'')))),
        (2, lambda i: ip4('10.10.1.10', '10.20.0.81', 6, tcp(40002, 80))),
    ]


def frames(dst_mac, src_mac):
    for count, make in table():
        for i in range(count):
            yield eth(dst_mac, src_mac, make(i))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'pcap':
        mac_gw, mac_ws = bytes.fromhex('02000a0a0101'), bytes.fromhex('02000a0a010a')
        with open(sys.argv[2], 'wb') as f:
            f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
            for n, fr in enumerate(frames(mac_gw, mac_ws)):
                # one frame every 10 ms from 2026-11-27T11:51:03Z
                f.write(struct.pack('<IIII', 1795780263, n * 10000, len(fr), len(fr)))
                f.write(fr)
    elif len(sys.argv) == 5 and sys.argv[1] == 'send':
        mac = [bytes.fromhex(m.replace(':', '')) for m in sys.argv[3:5]]
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((sys.argv[2], 0))
        for fr in frames(mac[0], mac[1]):
            s.send(fr)
    else:
        sys.exit('usage: tunnel_frames.py pcap FILE | send IFACE DST-MAC SRC-MAC')


if __name__ == '__main__':
    main()
