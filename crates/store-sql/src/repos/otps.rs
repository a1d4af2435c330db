use crate::error::StoreError;
use crate::models::OtpRow;
use crate::pool::SqlStore;
use crate::schema::otp_challenges as otp;
use async_trait::async_trait;
use chitchat_domain::auth::OtpChallenge;
use chitchat_domain::ports::OtpRepo;
use chitchat_domain::user::Phone;
use chitchat_domain::DomainResult;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;

#[async_trait]
impl OtpRepo for SqlStore {
    async fn put(&self, challenge: &OtpChallenge) -> DomainResult<()> {
        let row = OtpRow::from(challenge);
        db_run!(self, |conn| {
            diesel::insert_into(otp::table)
                .values(&row)
                .on_conflict(otp::phone)
                .do_update()
                .set((
                    otp::code_hash.eq(excluded(otp::code_hash)),
                    otp::expires_at.eq(excluded(otp::expires_at)),
                    otp::attempts.eq(excluded(otp::attempts)),
                    otp::created_at.eq(excluded(otp::created_at)),
                ))
                .execute(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(())
    }

    async fn get(&self, phone: &Phone) -> DomainResult<Option<OtpChallenge>> {
        let row: Option<OtpRow> = db_run!(self, |conn| {
            otp::table
                .find(phone.as_str())
                .select(OtpRow::as_select())
                .first(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(row.map(OtpChallenge::try_from).transpose()?)
    }

    async fn record_failure(&self, phone: &Phone) -> DomainResult<i32> {
        let attempts: Option<i32> = db_run!(self, |conn| {
            diesel::update(otp::table.find(phone.as_str()))
                .set(otp::attempts.eq(otp::attempts + 1))
                .returning(otp::attempts)
                .get_result(conn)
                .await
                .optional()
                .map_err(StoreError::from)?
        });
        Ok(attempts.unwrap_or(0))
    }

    async fn consume(&self, phone: &Phone, code_hash: &str) -> DomainResult<bool> {
        let deleted = db_run!(self, |conn| {
            diesel::delete(otp::table.filter(otp::phone.eq(phone.as_str())).filter(otp::code_hash.eq(code_hash)))
                .execute(conn)
                .await
                .map_err(StoreError::from)?
        });
        Ok(deleted == 1)
    }
}
