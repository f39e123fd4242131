package dev.dmalab.platform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dmalab.kernel.KernelVersion;
import org.junit.jupiter.api.Test;

class MachineBootTest {
    @Test
    void everyBuiltInPlatformBootsWithEveryKernel() {
        for (PlatformProfile p : Platforms.all()) {
            for (KernelVersion v : KernelVersion.builtIn()) {
                Machine m = Machine.boot(p, v);
                assertThat(m.devices()).hasSize(p.devices().size());
                if (System.getenv("DMALAB_SHOW_BOOT") != null) {
                    System.out.println("== " + p.name() + " " + v);
                    System.out.print(m.kernel().printk().dmesg());
                }
            }
        }
    }
}
