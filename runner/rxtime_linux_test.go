package runner

import (
	"encoding/binary"
	"syscall"
	"testing"
	"unsafe"
)

// cmsg builds one control message.
func cmsg(level, typ int32, data []byte) []byte {
	b := make([]byte, syscall.CmsgSpace(len(data)))
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = level, typ
	h.SetLen(syscall.CmsgLen(len(data)))
	copy(b[syscall.CmsgLen(0):], data)
	return b
}

func timespecBytes(sec, nsec int64) []byte {
	b := make([]byte, 16)
	binary.NativeEndian.PutUint64(b, uint64(sec))
	binary.NativeEndian.PutUint64(b[8:], uint64(nsec))
	return b
}

func TestParseRxStamp(t *testing.T) {
	stamp := cmsg(syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, timespecBytes(1700000000, 123456789))
	other := cmsg(syscall.SOL_SOCKET, syscall.SCM_RIGHTS, []byte{1, 0, 0, 0})
	for _, tc := range []struct {
		name string
		oob  []byte
		ok   bool
	}{
		{"alone", stamp, true},
		{"after another message", append(append([]byte{}, other...), stamp...), true},
		{"other only", other, false},
		{"empty", nil, false},
		{"truncated", stamp[:20], false},
		{"short data", cmsg(syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, []byte{1, 2, 3}), false},
	} {
		ns, ok := parseRxStamp(tc.oob)
		if ok != tc.ok || ok && ns != 1700000000*1e9+123456789 {
			t.Errorf("%s: %d, %v; want ok %v", tc.name, ns, ok, tc.ok)
		}
	}
}

// FuzzParseRxStamp checks parseRxStamp against the standard library's
// control-message parser.
func FuzzParseRxStamp(f *testing.F) {
	f.Add([]byte{})
	f.Add(cmsg(syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, timespecBytes(1, 2)))
	f.Add(append(cmsg(syscall.SOL_SOCKET, syscall.SCM_RIGHTS, []byte{1, 0, 0, 0}),
		cmsg(syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS, timespecBytes(3, 4))...))
	f.Fuzz(func(t *testing.T, oob []byte) {
		ns, ok := parseRxStamp(oob)
		msgs, err := syscall.ParseSocketControlMessage(oob)
		if err != nil {
			return // malformed: parseRxStamp may stop anywhere, but it returned
		}
		want, wantOK := int64(0), false
		for _, m := range msgs {
			if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
				want = int64(binary.NativeEndian.Uint64(m.Data))*1e9 + int64(binary.NativeEndian.Uint64(m.Data[8:]))
				wantOK = true
				break
			}
		}
		if ok != wantOK || ns != want {
			t.Errorf("parseRxStamp = %d, %v; the standard parser finds %d, %v", ns, ok, want, wantOK)
		}
	})
}

// TestReordered: the out-of-order counter is read from TCP_INFO, and a read
// after it moved is reported (loopback never reorders, so the move is
// simulated by a stale remembered count).
func TestReordered(t *testing.T) {
	c, s := tcpPair(t)
	rc := c.(*rxConn)
	s.Write([]byte("x"))
	if _, err := c.Read(make([]byte, 4)); err != nil {
		t.Fatal(err)
	}
	if rc.info.State != 1 { // TCP_ESTABLISHED: TCP_INFO was read
		t.Fatalf("TCP_INFO state %d", rc.info.State)
	}
	var fd int
	raw, _ := rc.TCPConn.SyscallConn()
	raw.Control(func(f uintptr) { fd = int(f) })
	if rc.reordered(fd) {
		t.Error("loopback reported reordering")
	}
	rc.ooo = rc.info.Rcv_ooopack + 5
	if !rc.reordered(fd) {
		t.Error("a moved out-of-order count was not reported")
	}
	if rc.reordered(fd) {
		t.Error("reordering reported twice for one move")
	}
}
