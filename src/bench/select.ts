export async function benchSelect(): Promise<void> {}
