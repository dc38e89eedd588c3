// Deliberately wrong: tsc must refuse it (tests/acceptance/test_typescript_types.py).
import { createClient } from "@supabase/supabase-js"
import type { Database } from "../database.types.js"

type Args<Fn extends keyof Database["api"]["Functions"]> = Database["api"]["Functions"][Fn]["Args"]

const api = createClient<Database>("https://project.supabase.co", "anon-key").schema("api")

export async function wrongCalls(): Promise<void> {
  // misspelled argument: mentor_idd instead of mentor_id
  await api.rpc("activate_pause", { mentor_idd: "6f1c2a8e-3b7d-4c1e-9a2f-5d8e7b6c4a31", reason: "exams" })
  // misspelled optional argument: supabase-js's rpc() lets an extra key through when every
  // required one is there; `satisfies` the function's Args catches it
  const lift = {
    mentor_id: "6f1c2a8e-3b7d-4c1e-9a2f-5d8e7b6c4a31",
    idempotency_keys: "0b5c7d1e-2f3a-4b6c-8d9e-1a2b3c4d5e6f",
  } satisfies Args<"lift_pause">
  await api.rpc("lift_pause", lift)
  // wrong type: batch_size is an integer, not a string
  await api.rpc("expire_lapsed_certifications", { batch_size: "100" })
}
