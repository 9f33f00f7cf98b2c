//! Tutorial 003's cookie app (`003_cookie_and_session/cookie_app.py`) and
//! `tutorial-cookies`.

use crate::harness::{
    plain_cookie_http_only_and_lax_in_rust as http_only_and_lax, Server, SideBySide,
};

#[tokio::test]
async fn plain_cookies_side_by_side() {
    let both = SideBySide::new(
        Server::flask("003_cookie_and_session/cookie_app.py", &[]).await,
        Server::rust("tutorial-cookies", &[]).await,
    );
    both.get("/")
        .await
        .same_answer()
        .same_cookies(http_only_and_lax);
    let step = both.get("/show").await;
    step.same_answer().same_cookies(http_only_and_lax);
    assert_eq!(step.rust.body, "ImmutableMultiDict([])");

    // set_cookie(key='name', value='letian', expires=time.time()+6*60)
    let step = both.get("/add").await;
    step.same_answer().same_cookies(http_only_and_lax);
    assert_eq!(step.rust.body, "add cookies");
    let lifetime = step.rust.cookie("name").unwrap().lifetime.unwrap();
    assert!((355..=360).contains(&lifetime), "{lifetime}");

    let step = both.get("/show").await;
    step.same_answer().same_cookies(http_only_and_lax);
    assert_eq!(step.rust.body, "ImmutableMultiDict([('name', 'letian')])");

    // set_cookie('name', '', expires=0): both expire it in 1970.
    let step = both.get("/del").await;
    step.same_answer().same_cookies(http_only_and_lax);
    assert_eq!(step.rust.body, "delete cookies");
    assert!(step.rust.cookie("name").unwrap().removes());

    let step = both.get("/show").await;
    step.same_answer().same_cookies(http_only_and_lax);
    assert_eq!(step.rust.body, "ImmutableMultiDict([])");
}
