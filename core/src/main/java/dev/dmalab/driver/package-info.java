/**
 * Modelled drivers and the driver core that probes them, shaped so that a crash's call trace reads like the
 * kernel's: {@code init/main.c} (the initcalls of {@code kernel_init}), {@code drivers/base/} (bus, driver
 * registration, {@code driver_attach} / {@code really_probe}, devres release on detach), {@code
 * drivers/pci/pci-driver.c}, the parts of {@code drivers/ata/libata-core.c} on the DMA path (host start and
 * activation, command issue with {@code ata_sg_setup} / {@code ata_sg_clean}), {@code drivers/ata/sata_sil24.c} (the
 * seed's SATA driver), the SiI3124/3132 controller itself (the device side: it fetches command blocks and moves
 * data by DMA), and a blkback-style path in which dom0 DMAs a guest's granted page.
 *
 * <p>May use: {@code xen}, {@code dma}, {@code kernel}, {@code device}, {@code hypervisor}, {@code cache}, {@code
 * memory}, {@code util}.
 */
package dev.dmalab.driver;
