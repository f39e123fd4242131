/**
 * What drivers and devices do, and the runner that executes it on a booted machine: the scenario language (YAML
 * files read by {@link dev.dmalab.scenario.ScenarioLoader}, documented in {@code docs/SCENARIOS.md}), its built-in
 * library ({@link dev.dmalab.scenario.ScenarioLibrary}: the seed's boot, the streaming round trip, a NIC RX ring,
 * an NVMe queue pair, USB-style small buffers and the DMA checker's corpus), and {@link
 * dev.dmalab.scenario.WorkloadRunner}. A run's outcome is {@code ok}, {@code oops} (the modelled kernel crashed),
 * {@code failed} (the workload found wrong data, could not map, or the checker found something) or {@code
 * unsupported} (the scenario does not apply to the platform or kernel).
 *
 * <p>May use: {@code replay}, {@code trace}, {@code platform}, {@code driver}, {@code check}, {@code xen}, {@code direct}, {@code
 * swiotlb}, {@code arch}, {@code dma}, {@code kernel}, {@code device}, {@code hypervisor}, {@code iommuhw}, {@code cache}, {@code
 * memory}, {@code util}.
 */
package dev.dmalab.scenario;
