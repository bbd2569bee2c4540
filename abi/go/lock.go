package l8

// UnlockStatus is what [Unlock] found (WIT `lock.unlock-status`, ABI 0.2.0).
type UnlockStatus uint8

const (
	// UnlockSuccess: the owner held the lock; it is released.
	UnlockSuccess UnlockStatus = 0
	// LockDoesNotExist: nobody holds the lock (never taken, already unlocked,
	// or its lease expired).
	LockDoesNotExist UnlockStatus = 1
	// LockBelongsToOthers: someone else holds the lock; it is left alone.
	LockBelongsToOthers UnlockStatus = 2
)

var unlockStatusNames = [...]string{"success", "lock-does-not-exist", "lock-belongs-to-others"}

// String returns the status's WIT name, e.g. "lock-belongs-to-others".
func (s UnlockStatus) String() string {
	if int(s) < len(unlockStatusNames) {
		return unlockStatusNames[s]
	}
	return "unlock-status(" + itoa(int(s)) + ")"
}

// unlockStatus checks the status byte the host sent. Unlike an unknown error
// code, an unknown status has no safe reading (the lock may or may not be
// released), so it is an error saying what to update.
func unlockStatus(b uint32) (UnlockStatus, error) {
	if b >= uint32(len(unlockStatusNames)) {
		return 0, &Error{Code: CodeInternal, Message: "the host answered unlock status " + itoa(int(b)) + ", which this SDK does not know (it knows 0-2); update l8.dev/l8"}
	}
	return UnlockStatus(b), nil
}
