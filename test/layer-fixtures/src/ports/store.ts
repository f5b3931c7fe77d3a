export interface Store {
  save(id: string): Promise<void>;
}
