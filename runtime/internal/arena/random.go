package arena

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ReadRandom fills b from the kernel's random source. Arena ids and creation
// names need only be unpredictable enough not to collide, so crypto/rand
// would buy nothing; linking it would cost every worker the initialisation
// of the FIPS module (several milliseconds of each start on a small machine).
func ReadRandom(b []byte) error {
	for len(b) > 0 {
		n, err := unix.Getrandom(b, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("getrandom: %w", err)
		}
		b = b[n:]
	}
	return nil
}
