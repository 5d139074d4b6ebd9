/** Pure logic, no hooks: is this address on the list (exact address, or "@domain")? */
export function isListed(address: string, list: readonly string[]): boolean {
  const a = address.toLowerCase();
  const at = a.lastIndexOf('@');
  const domain = at >= 0 ? a.slice(at) : '';
  return list.some((entry) => entry === a || (entry.startsWith('@') && entry === domain));
}
